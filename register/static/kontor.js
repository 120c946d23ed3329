// The dashboard updates itself: fetch the content again every few seconds, and send
// acknowledgements without leaving the page. Without JavaScript the page still works
// (reload by hand; the acknowledge buttons are plain forms).
(function () {
  "use strict";
  var root = document.getElementById("innhold");
  var status = document.getElementById("connection");
  if (!root) return;
  var url = root.getAttribute("data-url");
  var interval = Number(root.getAttribute("data-interval")) || 2000;
  var busy = false;
  var held = false; // no swap between a press and its click, or the click is lost

  document.addEventListener("pointerdown", function () { held = true; });
  document.addEventListener("pointerup", function () { setTimeout(function () { held = false; }, 400); });

  function show(ok) {
    if (ok) {
      status.textContent = "Oppdateres av seg selv hvert " + Math.round(interval / 1000) + ". sekund";
      status.className = "connection ok";
    } else {
      var t = new Date();
      var pad = function (n) { return (n < 10 ? "0" : "") + n; };
      status.textContent = "Mistet kontakten med registeret (siste forsøk kl. " +
        pad(t.getHours()) + "." + pad(t.getMinutes()) + "." + pad(t.getSeconds()) + ")";
      status.className = "connection lost";
    }
  }

  function refresh() {
    if (busy || held) return;
    busy = true;
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return; }
        if (!r.ok) { show(false); return; }
        return r.text().then(function (html) { root.innerHTML = html; show(true); });
      })
      .catch(function () { show(false); })
      .then(function () { busy = false; });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("kvitter")) return;
    ev.preventDefault();
    var button = form.querySelector("button");
    if (button) { button.disabled = true; button.textContent = "Kvitterer …"; }
    fetch(form.action, { method: "POST", credentials: "same-origin", headers: { "X-Kontor": "1" } })
      .then(function () { busy = false; refresh(); })
      .catch(function () { show(false); });
  });

  setInterval(refresh, interval);
})();
