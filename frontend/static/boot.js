// Loads the wasm app. Kept out of index.html so the Content-Security-Policy needs no inline script.
// `/api/config` is asked for here, while the wasm is fetched and compiled, instead of after: the
// app takes the answer from `window.keyholeConfig` (once) and asks again only if this failed.
import init from "/assets/keyhole.js";
const token = new URLSearchParams(location.search).get("token")
  || sessionStorage.getItem("keyhole.apiToken");
window.keyholeConfig = fetch("/api/config", {
  headers: token ? { "X-Keyhole-Token": token } : {},
  credentials: "same-origin",
}).then((response) => (response.ok ? response.text() : null), () => null);
init({ module_or_path: "/assets/keyhole_bg.wasm" });
