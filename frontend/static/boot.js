// Loads the wasm app. Kept out of index.html so the Content-Security-Policy needs no inline script.
import init from "/assets/keyhole.js";
init({ module_or_path: "/assets/keyhole_bg.wasm" });
