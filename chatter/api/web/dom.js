// Building DOM nodes without HTML strings: every text from the server goes in as a text node
// (textContent), never through innerHTML, so nothing it holds can become markup.

/**
 * el('button', {type: 'button', class: 'x', onclick: f}, 'text', childNode)
 * Props: `class`, `text` (textContent), `dataset` (an object), `on<event>` (a listener);
 * anything else is an attribute (true: present, null/false/undefined: absent).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = String(value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Show or hide an element (the `hidden` attribute, which the CSS honours). */
export function show(node, visible = true) {
  node.hidden = !visible;
}
