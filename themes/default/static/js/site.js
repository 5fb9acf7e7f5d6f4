/* sitegen: small enhancements that every page shares. The site works without them. */
(function () {
  "use strict";
  function addCopyButtons() {
    document.querySelectorAll("pre[data-copy]").forEach(function (pre) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = "Copy";
      button.addEventListener("click", function () {
        var text = pre.innerText;
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; },
            function () { button.textContent = "Select and copy"; });
        }
      });
      pre.parentNode.insertBefore(button, pre);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", addCopyButtons);
  } else {
    addCopyButtons();
  }
})();
