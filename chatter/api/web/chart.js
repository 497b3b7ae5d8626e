// A Vega-Lite chart (the answer's `visualization`, as chatter/charts.py builds it) drawn with
// the vendored vega-embed. `ast: true`: Vega evaluates its expressions with the interpreter
// vega-embed bundles (vega-interpreter) instead of generating functions, so the page needs no
// 'unsafe-eval'. The embed's own stylesheet and actions menu are off: its <style> would be
// inline, which the Content-Security-Policy refuses, and "Open in Vega Editor" leaves the server.

const OPTIONS = {
  ast: true,
  renderer: 'svg',
  actions: false,
  defaultStyle: false,
  tooltip: { disableDefaultStyle: true },
};

/** Draw `spec` into `container`; on failure the container says why instead. */
export async function drawChart(container, spec) {
  try {
    // Drawn with the vendored Vega-Lite whatever version its $schema names (chatter's charts
    // say v5; v6 reads them): without the $schema, vega-embed does not warn of the mismatch.
    const { $schema, ...body } = spec;
    const result = await globalThis.vegaEmbed(container, body, { ...OPTIONS, mode: 'vega-lite' });
    container.dataset.rendered = 'true';
    return result.view;
  } catch (err) {
    container.dataset.rendered = 'false';
    container.textContent = `The chart could not be drawn: ${err.message}`;
    return null;
  }
}
