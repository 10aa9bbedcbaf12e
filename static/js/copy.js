// Copy recovery codes to the clipboard. The only script on the site; pages work without it.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      var codes = Array.prototype.map.call(target.querySelectorAll("code"), function (el) {
        return el.textContent.trim();
      });
      navigator.clipboard.writeText(codes.join("\n") + "\n").then(function () {
        button.textContent = button.getAttribute("data-copied-label") || "Copied";
        button.setAttribute("aria-live", "polite");
        setTimeout(function () { button.textContent = label; }, 2500);
      });
    });
  });
})();
