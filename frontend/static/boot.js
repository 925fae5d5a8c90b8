// Starts the wasm app. Kept out of index.html so the Content-Security-Policy needs no inline script.
//
// A classic script loaded `async`: it runs as soon as it arrives, while the page is still being
// parsed (a module script would wait for the parse to end), so everything slow starts at once —
// compiling the wasm (index.html already preloads its bytes), importing its glue, and asking for
// `/api/config` (the app takes that answer from `window.keyholeConfig`, once, and asks again only
// if this failed). The marks are where the page-load benchmark reads each stage.
(() => {
  performance.mark("keyhole-boot");
  const token = new URLSearchParams(location.search).get("token")
    || sessionStorage.getItem("keyhole.apiToken");
  window.keyholeConfig = fetch("/api/config", {
    headers: token ? { "X-Keyhole-Token": token } : {},
    credentials: "same-origin",
  }).then((response) => (response.ok ? response.text() : null), () => null);
  const wasm = "/assets/keyhole_bg.wasm";
  const compiled = WebAssembly.compileStreaming(fetch(wasm)).then(
    (module) => {
      performance.mark("keyhole-compiled");
      return module;
    },
    // Compiling while downloading failed (a proxy changed the media type?): the glue fetches it.
    () => wasm,
  );
  const glue = import("/assets/keyhole.js");
  const parsed = document.readyState === "loading"
    ? new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }))
    : Promise.resolve();
  Promise.all([glue, compiled, parsed])
    .then(([{ default: init }, module]) => init({ module_or_path: module }))
    .then(() => performance.mark("keyhole-mounted"))
    .catch((error) => {
      console.error(error);
      if (document.body) document.body.textContent = `Keyhole could not start: ${error}`;
    });
})();
