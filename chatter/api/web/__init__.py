"""The web chat page's files (HTML, CSS, ES modules) and the vendored Vega bundles, served by
chatter.api.routes.web; a package so that they install with chatter."""
