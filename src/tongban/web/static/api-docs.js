// Starts the Swagger UI on /docs; a file of its own because the CSP allows no inline script.
// It shows one section of the API at a time (the page's chooser): the whole document is about
// 1 MB and takes Swagger UI seconds to read, more on a phone.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  var chooser = document.getElementById("api-section");
  window.ui = SwaggerUIBundle({
    url: root.dataset.url,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
  chooser.addEventListener("change", function () {
    var url = chooser.selectedOptions[0].dataset.url;
    // The address names the section, so a link or a reload opens the same one.
    history.replaceState(null, "", "/docs?section=" + encodeURIComponent(chooser.value));
    window.ui.specActions.updateUrl(url);
    window.ui.specActions.download(url);
  });
});
