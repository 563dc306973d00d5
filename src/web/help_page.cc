// The help page (RenderHelpPage in pages.h): client configuration for this server.
#include "app/page_layout.h"
#include "core/escape.h"
#include "web/pages.h"

namespace pipy::web {
namespace {

// "http://h:8080" -> "h:8080": what pip's trusted-host and npm's auth line want.
std::string_view Netloc(std::string_view base_url) {
  std::size_t scheme = base_url.find("://");
  if (scheme != std::string_view::npos) {
    base_url.remove_prefix(scheme + 3);
  }
  return base_url.substr(0, base_url.find('/'));
}

// "http://h:8080/pipy" -> "//h:8080/pipy/npm/": npm's key for this registry's settings in
// .npmrc (its "nerf dart": the registry URL without the scheme).
std::string NpmNerfDart(std::string_view base_url) {
  std::size_t scheme = base_url.find("://");
  if (scheme != std::string_view::npos) {
    base_url.remove_prefix(scheme + 1);
  }
  return std::string(base_url) + "/npm/";
}

}  // namespace

std::string RenderHelpPage(std::string_view base_url) {
  // Escaped once: the base comes from the request's Host header, which anyone can set.
  const std::string base = HtmlEscape(base_url);
  const std::string netloc = HtmlEscape(Netloc(base_url));
  const bool plain_http = base_url.substr(0, 7) == "http://";
  std::string b;
  b += "<h1>Using this index</h1>\n";
  b += "<p>Projects are served with the standard Simple Repository API at <code>" + base +
       "/simple/</code>; uploads go to <code>" + base + "/legacy/</code>.</p>\n";

  b += "<h2>pip</h2>\n<p>One command:</p>\n<pre>pip install --index-url " + base +
       "/simple/ PROJECT</pre>\n";
  b += "<p>Or for every command, in <code>pip.conf</code> (<code>~/.config/pip/pip.conf</code>, "
       "or <code>/etc/pip.conf</code>):</p>\n<pre>[global]\nindex-url = " + base + "/simple/\n";
  if (plain_http) {
    b += "trusted-host = " + netloc + "\n";
  }
  b += "</pre>\n";
  b += "<p>When reading needs a token, put it in the URL: <code>http://__token__:TOKEN@" +
       netloc + "/simple/</code> (or let pip ask: it sends credentials after a 401).</p>\n";

  b += "<h2>uv</h2>\n<pre>uv pip install --index-url " + base + "/simple/ PROJECT</pre>\n";
  b += "<p>Or in <code>pyproject.toml</code>:</p>\n<pre>[[tool.uv.index]]\nname = \"pipy\"\n"
       "url = \"" + base + "/simple/\"\ndefault = true</pre>\n";

  b += "<h2>twine (uploading)</h2>\n<p>In <code>~/.pypirc</code>, with an upload token "
       "(<code>pipy token create --scope upload:PROJECT</code>):</p>\n";
  b += "<pre>[distutils]\nindex-servers =\n    pipy\n\n[pipy]\nrepository = " + base +
       "/legacy/\nusername = __token__\npassword = TOKEN</pre>\n";
  b += "<pre>twine upload --repository pipy dist/*</pre>\n";
  b += "<p>A file, once published, is never replaced: re-uploading the identical file succeeds "
       "and changes nothing; different bytes under the same filename are refused.</p>\n";

  const std::string npm_auth = HtmlEscape(NpmNerfDart(base_url));
  b += "<h2 id=\"npm\">npm, yarn and pnpm</h2>\n<p>npm packages are served at <code>" + base +
       "/npm/</code>. In <code>.npmrc</code> (the project's, or <code>~/.npmrc</code>; yarn 1 "
       "and pnpm read it too), with a token from <code>pipy token create</code>:</p>\n";
  b += "<pre class=\"npmrc\">registry=" + base + "/npm/\n" + npm_auth +
       ":_authToken=TOKEN</pre>\n";
  b += "<p>To take only one scope from here and everything else from the default registry, "
       "write <code>@acme:registry=" + base + "/npm/</code> instead of the first line. "
       "The token may also come from the environment: <code>" + npm_auth +
       ":_authToken=${NPM_TOKEN}</code>. Without a token in the file, <code>npm login "
       "--registry " + base + "/npm/</code> asks for a user name (any) and takes the token "
       "as the password.</p>\n";
  b += "<pre>npm install @acme/log\nyarn add @acme/log\npnpm add @acme/log</pre>\n";

  b += "<h3>Publishing</h3>\n<p>With an upload token for the package's names in "
       "<code>.npmrc</code> (<code>pipy token create --name ci --scope 'upload:@acme/*'"
       "</code>), from the package's folder:</p>\n";
  b += "<pre>npm publish --registry " + base + "/npm/\nyarn publish --registry " + base +
       "/npm/\npnpm publish --registry " + base + "/npm/</pre>\n";
  b += "<p>A published version is never replaced: publishing the identical tarball again "
       "succeeds and changes nothing; other bytes under the same version are refused (409, "
       "<code>EPUBLISHCONFLICT</code>). Tags and deprecations: <code>npm dist-tag add "
       "@acme/log@1.1.0 next</code>, <code>npm deprecate @acme/log@1.0.0 \"use 1.1\"</code>. "
       "Unpublishing needs an <code>admin</code> token; an unpublished version can never be "
       "published again.</p>\n";
  return app::Layout("Help", b);
}

}  // namespace pipy::web
