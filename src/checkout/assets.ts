// The checkout page's only style sheet and script, inlined under the page's CSP nonce (the page
// loads nothing else). The script is progressive: copy button, countdown, live updates.

export const STYLES = `
*{box-sizing:border-box}
html{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f3f4f6}
body{margin:0;padding:1rem .75rem}
main{max-width:28rem;margin:0 auto;background:#fff;border-radius:.75rem;padding:1.25rem;box-shadow:0 1px 3px #0002}
h1{font-size:1.35rem;margin:.1rem 0 .8rem}
.merchant{margin:0;color:#57606a;font-weight:600}
.status{border-radius:.5rem;padding:.6rem .8rem;margin-bottom:1rem;background:#eef2ff}
.status p{margin:.2rem 0 0}
.status.partial{background:#fff7e0}.status.seen{background:#e8f4ff}
.status.paid{background:#e6f6ea}.status.expired{background:#fdecec}
.label{margin:.8rem 0 .1rem;color:#57606a;font-size:.85rem;text-transform:uppercase;letter-spacing:.04em}
.amount{margin:0;font-size:1.6rem;font-weight:700;overflow-wrap:anywhere}
.qr{display:block;margin:1rem auto;max-width:16rem}
.qr svg{display:block;width:100%;height:auto}
.address{margin:0;font:.95rem/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all;background:#f6f8fa;padding:.5rem;border-radius:.4rem;user-select:all}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.75rem 0}
button,.button,.wallet{font:inherit;padding:.5rem .9rem;border-radius:.4rem;border:1px solid #1f6feb;background:#1f6feb;color:#fff;text-decoration:none;cursor:pointer}
.wallet{background:#fff;color:#1f6feb}
.expires{color:#57606a;margin:.5rem 0}
.at{white-space:nowrap}
.note{color:#3d444d}
footer{margin-top:1.25rem;color:#57606a;font-size:.8rem;overflow-wrap:anywhere}
footer p{margin:.2rem 0}
code{font-size:.8rem}
[data-live=open] .refresh{display:none}
`;

/** Plain ES2017 for any browser the payer has; it reads the DOM the server rendered, nothing else. */
export const CLIENT_SCRIPT = `(function () {
  var root = document.documentElement;
  var main = document.getElementById("checkout");
  var skew = 0;
  function view() { return main.querySelector(".view"); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function countdown(ms) {
    var t = Math.max(0, Math.floor(ms / 1000));
    var d = Math.floor(t / 86400), h = Math.floor((t % 86400) / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    if (d > 0) return d + "d " + h + "h";
    return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }
  function tick() {
    var els = main.querySelectorAll("[data-expires]");
    for (var i = 0; i < els.length; i++) els[i].textContent = countdown(Number(els[i].getAttribute("data-expires")) - (Date.now() + skew));
  }
  function wire() {
    var v = view();
    if (v) skew = Number(v.getAttribute("data-now")) - Date.now();
    var copy = main.querySelector("[data-copy]");
    if (copy) {
      copy.hidden = false;
      copy.addEventListener("click", function () {
        var done = function () { copy.textContent = "Copied"; };
        // The Clipboard API needs a secure context; elsewhere the address is selected and copied.
        if (navigator.clipboard) return navigator.clipboard.writeText(copy.getAttribute("data-copy")).then(done, select);
        select();
      });
    }
    function select() {
      var address = main.querySelector(".address");
      var range = document.createRange();
      range.selectNodeContents(address);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try { if (document.execCommand("copy")) copy.textContent = "Copied"; } catch (e) {}
    }
    tick();
  }
  wire();
  setInterval(tick, 1000);
  var state = view() && view().getAttribute("data-state");
  if (state === "paid" || typeof EventSource === "undefined") return;
  var events = new EventSource(location.pathname.replace(/\\/+$/, "") + "/events");
  events.onopen = function () { root.setAttribute("data-live", "open"); };
  events.onerror = function () { root.setAttribute("data-live", "reconnecting"); };
  events.addEventListener("state", function (e) {
    var next = document.createElement("div");
    next.innerHTML = e.data;
    var fresh = next.querySelector(".view");
    if (fresh && view() && fresh.getAttribute("data-version") === view().getAttribute("data-version")) {
      // The same view: only the server's clock moves.
      skew = Number(fresh.getAttribute("data-now")) - Date.now();
      return;
    }
    main.innerHTML = e.data;
    wire();
    if (view().getAttribute("data-state") === "paid") { events.close(); root.setAttribute("data-live", "done"); }
  });
})();`;
