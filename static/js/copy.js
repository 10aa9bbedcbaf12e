// Recovery codes: copy them to the clipboard, print the print view. The only script on the
// site, loaded as a static file (the CSP allows no inline script); pages work without it.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    var label = button.textContent;
    var status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    button.insertAdjacentElement("afterend", status);
    button.addEventListener("click", function () {
      var codes = Array.prototype.map.call(target.querySelectorAll("code"), function (el) {
        return el.textContent.trim();
      });
      navigator.clipboard.writeText(codes.join("\n") + "\n").then(function () {
        var copied = button.getAttribute("data-copied-label") || "Copied";
        button.textContent = copied;
        status.textContent = copied;
        setTimeout(function () {
          button.textContent = label;
          status.textContent = "";
        }, 2500);
      });
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
