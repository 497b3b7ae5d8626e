// How the page writes values: numbers readable (rates stay as the server sent them; a table
// cell keeps the raw value in data-value), times in the reader's locale.

const decimals = new Intl.NumberFormat(undefined, { maximumFractionDigits: 4 });

export function formatValue(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? decimals.format(value) : String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A p-value as analysts write it: "< 0.001" below a thousandth. */
export function formatP(p) {
  if (typeof p !== 'number') return '';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

/** Seconds since the epoch (the session store's times) in the reader's locale. */
export function formatTime(seconds) {
  const when = new Date(Number(seconds) * 1000);
  return Number.isNaN(when.getTime()) ? '' : when.toLocaleString();
}

/** "step_started" -> "step started". */
export function words(name) {
  return String(name).replaceAll('_', ' ');
}
