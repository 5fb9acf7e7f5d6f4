/* sitegen: the version switcher of a versioned site. The list of versions comes from ../versions.js
   (window.SITEGEN_VERSIONS, in the shape of mike's versions.json); each version's page list from
   <version>/pages.js (window.SITEGEN_PAGES[version]). Both are classic scripts, so this works from
   file:// as well as over HTTP. Switching keeps the reader on the same page when the target version has
   it, and goes to the target's home page otherwise. */
(function () {
  "use strict";
  var box = document.querySelector("[data-sitegen-versions]");
  var versions = window.SITEGEN_VERSIONS;
  if (!box || !Array.isArray(versions) || !versions.length) { return; }
  var current = box.getAttribute("data-current");
  var page = box.getAttribute("data-page");
  var root = new URL(".", new URL(box.getAttribute("data-root"), window.location.href));

  function loadPages(version) {
    window.SITEGEN_PAGES = window.SITEGEN_PAGES || {};
    if (window.SITEGEN_PAGES[version]) { return Promise.resolve(window.SITEGEN_PAGES[version]); }
    return new Promise(function (resolve) {
      var el = document.createElement("script");
      el.src = new URL(encodeURIComponent(version) + "/pages.js", root).href;
      el.onload = function () { resolve(window.SITEGEN_PAGES[version] || []); };
      el.onerror = function () { resolve([]); };
      document.head.appendChild(el);
    });
  }

  function go(version) {
    loadPages(version).then(function (pages) {
      var target = pages.indexOf(page) >= 0 ? page : "index.html";
      window.location.href = new URL(encodeURIComponent(version) + "/" + target, root).href;
    });
  }

  var label = document.createElement("label");
  label.textContent = "Version";
  var select = document.createElement("select");
  select.setAttribute("aria-label", "Site version");
  versions.forEach(function (v) {
    var option = document.createElement("option");
    option.value = v.version;
    option.textContent = v.title + (v.aliases && v.aliases.length ? " (" + v.aliases.join(", ") + ")" : "");
    option.selected = v.version === current;
    select.appendChild(option);
  });
  select.addEventListener("change", function () {
    if (select.value !== current) { go(select.value); }
  });
  label.appendChild(select);
  var old = box.querySelector(".version-label");
  if (old) { box.replaceChild(label, old); } else { box.insertBefore(label, box.firstChild); }
})();
