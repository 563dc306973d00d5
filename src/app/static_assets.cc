#include "app/static_assets.h"

#include "core/sha256.h"

namespace pipy::app {
namespace {

// Kept tiny: no external assets, so the UI works offline and behind the VPN.
constexpr std::string_view kCss = R"css(
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f23;background:#fff}
header{background:#1f3a5f;padding:.6em 1.2em}
header a{color:#fff;text-decoration:none;margin-right:1.2em;font-weight:600}
main{max-width:68em;margin:0 auto;padding:1em 1.2em}
a{color:#0b5cad}
.muted{color:#6a737d}
code,pre,.hash{font-family:ui-monospace,monospace;font-size:13px}
pre{background:#f6f8fa;padding:.8em;overflow:auto}
.hash{word-break:break-all}
table{border-collapse:collapse}
td,th{border-bottom:1px solid #e1e4e8;padding:.3em .6em;text-align:left;vertical-align:top}
.yanked{background:#b31d28;color:#fff;border-radius:3px;padding:0 .4em;font-size:12px}
ul.projects{list-style:none;padding:0}
ul.projects li{padding:.2em 0}
input[type=search]{font-size:15px;padding:.3em;width:20em}
.readme{border-top:1px solid #e1e4e8;margin-top:1.5em}
.build-message{border-left:4px solid #b31d28;background:#fff5f5;padding:.1em 1em;margin:0 0 1em}
.build-failed{color:#b31d28;font-weight:600}
ul.waits{margin:0;padding-left:1.2em}
)css";

// Hides the list items whose data-n does not contain the box's text, as the user types.
// Kept identical to the server-side rule (lowercased substring of name or display name).
constexpr std::string_view kFilterJs = R"js(
(function () {
  var box = document.getElementById('filter');
  var items = document.querySelectorAll('#projects li');
  var count = document.getElementById('count');
  box.addEventListener('input', function () {
    var q = box.value.trim().toLowerCase(), shown = 0;
    for (var i = 0; i < items.length; i++) {
      var hit = !q || items[i].getAttribute('data-n').indexOf(q) >= 0;
      items[i].hidden = !hit;
      if (hit) { shown++; }
    }
    count.textContent = shown + (shown === 1 ? ' project' : ' projects');
  });
})();
)js";

StaticAsset Make(std::string_view stem, std::string_view extension, std::string_view type,
                 std::string_view body) {
  const std::string hash = Sha256Hex(body).substr(0, 12);
  return StaticAsset{"/static/" + std::string(stem) + "-" + hash + "." + std::string(extension),
                     std::string(type), std::string(body), "\"" + hash + "\""};
}

}  // namespace

const StaticAsset& Stylesheet() {
  static const StaticAsset asset = Make("pipy", "css", "text/css; charset=utf-8", kCss);
  return asset;
}

const StaticAsset& FilterScript() {
  static const StaticAsset asset =
      Make("filter", "js", "text/javascript; charset=utf-8", kFilterJs);
  return asset;
}

const std::vector<const StaticAsset*>& StaticAssets() {
  static const std::vector<const StaticAsset*> all = {&Stylesheet(), &FilterScript()};
  return all;
}

const StaticAsset* FindStaticAsset(std::string_view path) {
  for (const StaticAsset* asset : StaticAssets()) {
    if (asset->path == path) {
      return asset;
    }
  }
  return nullptr;
}

void SetPageSecurityHeaders(http::Response& response) {
  // README images may come from anywhere over HTTPS (badges); nothing else leaves the site.
  response.SetHeader("Content-Security-Policy",
                     "default-src 'none'; style-src 'self'; script-src 'self'; "
                     "img-src 'self' https: data:; base-uri 'none'; form-action 'self'; "
                     "frame-ancestors 'none'");
  response.SetHeader("X-Frame-Options", "DENY");
  response.SetHeader("Referrer-Policy", "no-referrer");
}

}  // namespace pipy::app
