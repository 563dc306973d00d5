// The Python routes end to end without sockets: a real filesystem blob store and SQLite
// catalog in a temp folder, the real index and access control, requests built by hand and
// dispatched through the router (guard, then handler) as the server would.
#include "python/routes.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>

#include "catalog/factory.h"
#include "core/sha256.h"
#include "python/publish.h"
#include "storage/factory.h"
#include "testing/dist_builder.h"

namespace pipy::python {
namespace {



namespace json = boost::json;
using pipy::testing::CoreMetadataText;
using pipy::testing::MakeSdist;
using pipy::testing::MakeWheel;
using pipy::testing::ReadFile;
using pipy::testing::TempDir;

constexpr std::string_view kPipAccept =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01";
constexpr std::string_view kBoundary = "----twineBoundary7f3a";

std::string BodyOf(http::Response& response) {
  if (auto* s = std::get_if<std::string>(&response.body)) {
    return *s;
  }
  if (auto* shared = std::get_if<std::shared_ptr<const std::string>>(&response.body)) {
    return *shared ? **shared : "";
  }
  std::string out;
  char buf[4096];
  if (auto* file = std::get_if<http::FileBody>(&response.body)) {
    std::uint64_t offset = file->offset;
    while (out.size() < file->length) {
      ssize_t n = ::pread(file->fd, buf, sizeof buf, static_cast<off_t>(offset));
      if (n <= 0) {
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
      offset += static_cast<std::uint64_t>(n);
    }
    out.resize(std::min<std::size_t>(out.size(), file->length));
    return out;
  }
  auto& stream = std::get<http::StreamBody>(response.body);
  while (true) {
    Result<std::size_t> n = stream.read(buf, sizeof buf);
    if (!n || *n == 0) {
      return out;
    }
    out.append(buf, *n);
  }
}

std::string BodyOf(http::Response&& response) { return BodyOf(response); }

struct Field {
  std::string name;
  std::string value;
};

// A store that behaves like a remote one: readers have no local descriptor, and
// optionally every blob has a direct (presigned-like) URL.
class RemoteLikeStore : public storage::BlobStore {
 public:
  RemoteLikeStore(storage::BlobStore& inner, bool direct) : inner_(inner), direct_(direct) {}
  Result<std::unique_ptr<storage::BlobWriter>> NewWriter() override { return inner_.NewWriter(); }
  Result<std::unique_ptr<storage::BlobReader>> Open(std::string_view key) override {
    PIPY_ASSIGN_OR_RETURN(std::unique_ptr<storage::BlobReader> reader, inner_.Open(key));
    return std::unique_ptr<storage::BlobReader>(new NoFdReader(std::move(reader)));
  }
  Result<storage::BlobInfo> Stat(std::string_view key) override { return inner_.Stat(key); }
  Status Delete(std::string_view key) override { return inner_.Delete(key); }
  Status List(const std::function<Status(const storage::BlobInfo&)>& fn) override {
    return inner_.List(fn);
  }
  std::optional<std::string> DirectUrl(std::string_view key) override {
    if (!direct_) {
      return std::nullopt;
    }
    return "https://bucket.example/" + std::string(key) + "?signed";
  }

 private:
  class NoFdReader : public storage::BlobReader {
   public:
    explicit NoFdReader(std::unique_ptr<storage::BlobReader> inner) : inner_(std::move(inner)) {}
    std::uint64_t size() const override { return inner_->size(); }
    Result<std::size_t> Read(char* buf, std::size_t n) override { return inner_->Read(buf, n); }

   private:
    std::unique_ptr<storage::BlobReader> inner_;
  };
  storage::BlobStore& inner_;
  bool direct_;
};

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StorageOptions storage_options;
    storage_options.root = tmp_.path() / "data";
    auto blobs = storage::MakeBlobStore(storage_options);
    ASSERT_TRUE(blobs) << blobs.error().ToString();
    blobs_ = std::move(*blobs);
    catalog::CatalogOptions catalog_options;
    catalog_options.sqlite_path = tmp_.path() / "data" / "catalog.db";
    auto catalog = catalog::MakeCatalog(catalog_options);
    ASSERT_TRUE(catalog) << catalog.error().ToString();
    catalog_ = std::move(*catalog);
    index_ = std::make_unique<index::Index>(*blobs_, *catalog_);
    auto authenticator = auth::Authenticator::Create(*catalog_, {});
    ASSERT_TRUE(authenticator) << authenticator.error().ToString();
    authenticator_ = std::make_unique<auth::Authenticator>(std::move(*authenticator));
    access_ = std::make_unique<app::Access>(*authenticator_);
    upload_token_ = AddToken("ci", {"upload:acme-*"});
    read_token_ = AddToken("reader", {"read"});

    std::filesystem::create_directories(upload_tmp());
    std::filesystem::create_directories(dist_dir());
    PythonOptions options;
    options.tmp_dir = upload_tmp();
    options.max_upload_bytes = 1024 * 1024;
    RegisterRoutes(router_, *index_, *access_, metrics_, options);
  }

  std::string AddToken(const std::string& name, std::vector<std::string> scopes) {
    std::string secret = auth::NewTokenSecret();
    catalog::TokenRecord token;
    token.name = name;
    token.hash = auth::HashTokenSecret(secret);
    token.scopes = std::move(scopes);
    EXPECT_TRUE(catalog_->AddToken(token).ok());
    return secret;
  }

  std::filesystem::path upload_tmp() const { return tmp_.path() / "uploads"; }
  std::filesystem::path dist_dir() const { return tmp_.path() / "dist"; }

  // Dispatches like the server: route lookup, guard, then handler.
  http::Response Call(http::Request request) {
    std::size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    request.query = q == std::string::npos ? "" : request.target.substr(q + 1);
    if (request.remote_address.empty()) {
      request.remote_address = "127.0.0.1";
    }
    http::Router::Match match = router_.Find(request.method, request.path);
    if (match.route == nullptr) {
      return http::TextResponse(match.method_mismatch ? 405 : 404, "no route\n");
    }
    request.params = match.params;
    if (match.route->options.guard) {
      if (std::optional<http::Response> early = match.route->options.guard(request)) {
        return std::move(*early);
      }
    }
    return match.route->handler(request);
  }

  http::Response Get(const std::string& target, std::vector<http::Header> headers = {}) {
    http::Request request;
    request.method = "GET";
    request.target = target;
    request.headers = std::move(headers);
    return Call(std::move(request));
  }

  std::string MultipartBody(const std::vector<Field>& fields, const std::string& filename,
                            const std::string& content) {
    std::string body;
    for (const Field& f : fields) {
      body += "--" + std::string(kBoundary) + "\r\nContent-Disposition: form-data; name=\"" +
              f.name + "\"\r\n\r\n" + f.value + "\r\n";
    }
    body += "--" + std::string(kBoundary) +
            "\r\nContent-Disposition: form-data; name=\"content\"; filename=\"" + filename +
            "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + content + "\r\n--" +
            std::string(kBoundary) + "--\r\n";
    return body;
  }

  // A twine-shaped upload of `file`; `overrides` replace or add form fields.
  http::Request UploadRequest(const std::filesystem::path& file, const std::string& token,
                              std::vector<Field> overrides = {}) {
    std::string content = ReadFile(file);
    std::vector<Field> fields = {{":action", "file_upload"},
                                 {"protocol_version", "1"},
                                 {"name", "acme-logger"},
                                 {"version", "1.0"},
                                 {"filetype", "bdist_wheel"},
                                 {"pyversion", "py3"},
                                 {"metadata_version", "2.1"},
                                 {"summary", "Logs"},
                                 {"sha256_digest", Sha256Hex(content)},
                                 {"md5_digest", "00000000000000000000000000000000"}};
    for (const Field& o : overrides) {
      bool replaced = false;
      for (Field& f : fields) {
        if (f.name == o.name) {
          f.value = o.value;
          replaced = true;
        }
      }
      if (!replaced) {
        fields.push_back(o);
      }
    }
    http::Request request;
    request.method = "POST";
    request.target = "/legacy/";
    request.headers = {{"Content-Type", "multipart/form-data; boundary=" + std::string(kBoundary)}};
    if (!token.empty()) {
      request.headers.push_back({"Authorization", "Bearer " + token});
    }
    request.body.memory = MultipartBody(fields, file.filename().string(), content);
    request.body.size = request.body.memory.size();
    return request;
  }

  // Uploads acme-logger 2.0 as a wheel of well over 64 KiB (a module of 256 KiB of hex
  // digits from a PRNG) and returns its path.
  std::filesystem::path UploadBigWheel() {
    std::string noise;
    std::mt19937_64 prng(42);
    while (noise.size() < 256 * 1024) {
      noise += fmt::format("{:016x}", prng());
    }
    std::filesystem::path big_dir = dist_dir() / "big";
    std::filesystem::create_directories(big_dir);
    std::filesystem::path big = MakeWheel(big_dir, "acme-logger", "2.0",
                                          CoreMetadataText("acme-logger", "2.0"), noise);
    EXPECT_GT(std::filesystem::file_size(big), 64u * 1024);
    http::Response uploaded = Call(UploadRequest(big, upload_token_, {{"version", "2.0"}}));
    EXPECT_EQ(uploaded.status, 200) << uploaded.reason;
    return big;
  }

  std::filesystem::path Wheel(const std::string& salt = "") {
    std::filesystem::path dir = dist_dir() / ("w" + salt);
    std::filesystem::create_directories(dir);
    return MakeWheel(dir, "acme-logger", "1.0", WheelMetadata(), salt);
  }
  static std::string WheelMetadata() {
    return CoreMetadataText("acme-logger", "1.0", "Requires-Python: >=3.8\n");
  }

  void UploadOk(const std::filesystem::path& file) {
    http::Response r = Call(UploadRequest(file, upload_token_));
    ASSERT_EQ(r.status, 200) << r.reason;
  }

  json::value GetJson(const std::string& target) {
    http::Response r = Get(target, {{"Accept", std::string(kPipAccept)}});
    EXPECT_EQ(r.status, 200) << r.reason;
    EXPECT_EQ(r.header("content-type"), "application/vnd.pypi.simple.v1+json");
    return json::parse(BodyOf(r));
  }

  std::size_t UploadTempFiles() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(upload_tmp())) {
      ++n;
    }
    return n;
  }

  TempDir tmp_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<app::Access> access_;
  http::Metrics metrics_;
  http::Router router_;
  std::string upload_token_;
  std::string read_token_;
};

TEST_F(RoutesTest, UploadThenProjectPageInBothFormats) {
  std::filesystem::path wheel = Wheel();
  std::string sha = Sha256Hex(ReadFile(wheel));
  std::string meta_sha = Sha256Hex(WheelMetadata());
  http::Response up = Call(UploadRequest(wheel, upload_token_));
  ASSERT_EQ(up.status, 200) << up.reason;
  EXPECT_EQ(BodyOf(up), "OK\n");
  EXPECT_NE(metrics_.Render().find("pipy_uploads_total{result=\"created\"} 1"), std::string::npos)
      << metrics_.Render();
  EXPECT_EQ(UploadTempFiles(), 0u) << "the upload's temp file was left behind";

  json::value page = GetJson("/simple/acme-logger/");
  EXPECT_EQ(page.at("meta").at("api-version").as_string(), "1.1");
  EXPECT_EQ(page.at("name").as_string(), "acme-logger");
  EXPECT_EQ(page.at("versions").at(0).as_string(), "1.0");
  const json::object& file = page.at("files").at(0).as_object();
  EXPECT_EQ(file.at("filename").as_string(), wheel.filename().string());
  EXPECT_EQ(file.at("url").as_string(), "/files/" + sha + "/" + wheel.filename().string());
  EXPECT_EQ(file.at("hashes").at("sha256").as_string(), sha);
  EXPECT_EQ(file.at("core-metadata").at("sha256").as_string(), meta_sha);
  EXPECT_EQ(file.at("requires-python").as_string(), ">=3.8");
  EXPECT_EQ(file.at("yanked").as_bool(), false);
  EXPECT_FALSE(file.contains("dist-info-metadata"));

  http::Response html = Get("/simple/acme-logger/");
  ASSERT_EQ(html.status, 200);
  EXPECT_EQ(html.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(html.header("vary"), "Accept");
  EXPECT_TRUE(html.header("etag").has_value());
  EXPECT_TRUE(html.header("cache-control").has_value());
  std::string text = BodyOf(html);
  EXPECT_NE(text.find("#sha256=" + sha + "\""), std::string::npos) << text;
  EXPECT_NE(text.find("data-core-metadata=\"sha256=" + meta_sha + "\""), std::string::npos);
  EXPECT_NE(text.find("data-dist-info-metadata=\"sha256=" + meta_sha + "\""), std::string::npos);
  EXPECT_NE(text.find("data-requires-python=\"&gt;=3.8\""), std::string::npos);

  http::Response v1html =
      Get("/simple/acme-logger/", {{"Accept", "application/vnd.pypi.simple.v1+html"}});
  EXPECT_EQ(v1html.header("content-type"), "application/vnd.pypi.simple.v1+html");

  json::value root = GetJson("/simple/");
  EXPECT_EQ(root.at("projects").at(0).at("name").as_string(), "acme-logger");
  http::Response root_html = Get("/simple/");
  EXPECT_NE(BodyOf(root_html).find("href=\"/simple/acme-logger/\""), std::string::npos);
}

TEST_F(RoutesTest, ReleaseJsonShowsProvenanceOfBuiltFiles) {
  UploadOk(Wheel());
  std::filesystem::path sdist_dir = dist_dir() / "built";
  std::filesystem::create_directories(sdist_dir);
  DistributionUpload built;
  built.file = pipy::testing::MakeSdist(sdist_dir, "acme-logger", "1.0");
  built.filename = built.file.filename().string();
  built.uploader = "builder:3";
  built.provenance = catalog::Provenance{"mono", std::string(40, 'e'), "logger", 3, "passed"};
  auth::Principal builder;
  builder.anonymous = false;
  builder.token_name = "builder";
  builder.scopes = {"upload:*"};
  ASSERT_TRUE(PublishDistribution(*index_, builder, built));

  http::Response r = Get("/api/python/Acme.Logger/1.0.0");
  ASSERT_EQ(r.status, 200) << r.reason;
  EXPECT_EQ(r.header("content-type"), "application/json");
  json::value release = json::parse(BodyOf(r));
  EXPECT_EQ(release.at("project").as_string(), "acme-logger");
  EXPECT_EQ(release.at("version").as_string(), "1.0");
  const json::array& files = release.at("files").as_array();
  ASSERT_EQ(files.size(), 2u);
  int with_provenance = 0;
  for (const json::value& f : files) {
    if (f.at("filename").as_string() == built.filename) {
      const json::object& p = f.at("provenance").as_object();
      EXPECT_EQ(p.at("commit").as_string(), std::string(40, 'e'));
      EXPECT_EQ(p.at("module").as_string(), "logger");
      EXPECT_EQ(p.at("source").as_string(), "mono");
      EXPECT_EQ(p.at("build_id").as_int64(), 3);
      EXPECT_EQ(p.at("test_result").as_string(), "passed");
      ++with_provenance;
    } else {
      EXPECT_TRUE(f.at("provenance").is_null());
    }
  }
  EXPECT_EQ(with_provenance, 1);
  EXPECT_EQ(Get("/api/python/acme-logger/9.9").status, 404);
  EXPECT_EQ(Get("/api/python/nobody/1.0").status, 404);
}

TEST_F(RoutesTest, NonNormalizedNamesRedirect) {
  UploadOk(Wheel());
  http::Response r = Get("/simple/Acme_Logger/?x=1");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("location"), "/simple/acme-logger/?x=1");
  r = Get("/simple/acme-logger");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("location"), "/simple/acme-logger/");
  EXPECT_EQ(Get("/simple/not-there/").status, 404);
  EXPECT_EQ(Get("/simple/-bad-/").status, 404);
}

TEST_F(RoutesTest, NotAcceptableAndConditionalGet) {
  UploadOk(Wheel());
  http::Response refused = Get("/simple/acme-logger/", {{"Accept", "application/json"}});
  EXPECT_EQ(refused.status, 406);
  EXPECT_EQ(Get("/simple/", {{"Accept", "application/json"}}).status, 406);

  http::Response first = Get("/simple/acme-logger/", {{"Accept", std::string(kPipAccept)}});
  ASSERT_EQ(first.status, 200);
  std::string etag(*first.header("etag"));
  http::Response again = Get("/simple/acme-logger/",
                             {{"Accept", std::string(kPipAccept)}, {"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(BodyOf(again), "");
  EXPECT_EQ(again.header("etag"), etag);
  // The HTML page has its own ETag, so the JSON one does not validate it.
  EXPECT_EQ(Get("/simple/acme-logger/", {{"If-None-Match", etag}}).status, 200);
}

TEST_F(RoutesTest, FilesAndMetadata) {
  std::filesystem::path wheel = Wheel();
  std::string bytes = ReadFile(wheel);
  std::string sha = Sha256Hex(bytes);
  UploadOk(wheel);
  std::string url = "/files/" + sha + "/" + wheel.filename().string();

  http::Response file = Get(url);
  ASSERT_EQ(file.status, 200) << file.reason;
  EXPECT_EQ(BodyOf(file), bytes);
  EXPECT_EQ(file.header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(file.header("etag"), "\"" + sha + "\"");
  EXPECT_EQ(file.header("content-type"), "application/octet-stream");
  EXPECT_EQ(Get(url, {{"If-None-Match", "\"" + sha + "\""}}).status, 304);

  http::Response meta = Get(url + ".metadata");
  ASSERT_EQ(meta.status, 200) << meta.reason;
  EXPECT_EQ(BodyOf(meta), WheelMetadata());
  EXPECT_EQ(meta.header("content-type"), "text/plain; charset=utf-8");

  std::string other_sha(64, '0');
  EXPECT_EQ(Get("/files/" + other_sha + "/" + wheel.filename().string()).status, 404);
  EXPECT_EQ(Get("/files/" + sha + "/nope-1.0-py3-none-any.whl").status, 404);
}

TEST_F(RoutesTest, SmallFilesComeFromMemoryAndLargeOnesBySendfile) {
  std::filesystem::path small = Wheel();
  UploadOk(small);
  std::string small_bytes = ReadFile(small);
  http::Response inlined =
      Get("/files/" + Sha256Hex(small_bytes) + "/" + small.filename().string());
  ASSERT_EQ(inlined.status, 200);
  using Shared = std::shared_ptr<const std::string>;
  ASSERT_TRUE(std::holds_alternative<Shared>(inlined.body));
  EXPECT_EQ(*std::get<Shared>(inlined.body), small_bytes);
  // The second download is served from the same bytes in memory, not read again.
  http::Response again =
      Get("/files/" + Sha256Hex(small_bytes) + "/" + small.filename().string());
  ASSERT_TRUE(std::holds_alternative<Shared>(again.body));
  EXPECT_EQ(std::get<Shared>(again.body).get(), std::get<Shared>(inlined.body).get());

  std::filesystem::path big = UploadBigWheel();
  http::Response sent = Get("/files/" + Sha256Hex(ReadFile(big)) + "/" + big.filename().string());
  ASSERT_EQ(sent.status, 200);
  ASSERT_TRUE(std::holds_alternative<http::FileBody>(sent.body));
  EXPECT_EQ(std::get<http::FileBody>(sent.body).length, std::filesystem::file_size(big));
}

TEST_F(RoutesTest, RemoteBlobsAreStreamedOrRedirected) {
  std::filesystem::path wheel = UploadBigWheel();  // small blobs come from memory instead
  std::string bytes = ReadFile(wheel);
  std::string sha = Sha256Hex(bytes);
  std::string url = "/files/" + sha + "/" + wheel.filename().string();

  RemoteLikeStore streaming(*blobs_, /*direct=*/false);
  index::Index streaming_index(streaming, *catalog_);
  router_ = http::Router();
  RegisterRoutes(router_, streaming_index, *access_, metrics_, {.tmp_dir = upload_tmp()});
  http::Response streamed = Get(url);
  ASSERT_EQ(streamed.status, 200) << streamed.reason;
  ASSERT_TRUE(std::holds_alternative<http::StreamBody>(streamed.body));
  EXPECT_EQ(std::get<http::StreamBody>(streamed.body).length, bytes.size());
  EXPECT_EQ(BodyOf(streamed), bytes);

  RemoteLikeStore direct(*blobs_, /*direct=*/true);
  index::Index direct_index(direct, *catalog_);
  router_ = http::Router();
  RegisterRoutes(router_, direct_index, *access_, metrics_, {.tmp_dir = upload_tmp()});
  http::Response redirected = Get(url);
  EXPECT_EQ(redirected.status, 302);
  EXPECT_EQ(redirected.header("location"), "https://bucket.example/" + sha + "?signed");
}

TEST_F(RoutesTest, SdistHasNoMetadataFile) {
  std::filesystem::path sdist = MakeSdist(dist_dir(), "acme-logger", "2.0");
  std::string sha = Sha256Hex(ReadFile(sdist));
  http::Response up =
      Call(UploadRequest(sdist, upload_token_,
                         {{"version", "2.0"}, {"filetype", "sdist"}, {"pyversion", "source"}}));
  ASSERT_EQ(up.status, 200) << up.reason;
  std::string url = "/files/" + sha + "/" + sdist.filename().string();
  http::Response file = Get(url);
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.header("content-type"), "application/gzip");
  EXPECT_EQ(Get(url + ".metadata").status, 404);
}

TEST_F(RoutesTest, ReuploadsAndRefusals) {
  std::filesystem::path wheel = Wheel();
  UploadOk(wheel);
  http::Response same = Call(UploadRequest(wheel, upload_token_));
  EXPECT_EQ(same.status, 200) << same.reason;
  EXPECT_NE(metrics_.Render().find("pipy_uploads_total{result=\"identical\"} 1"),
            std::string::npos);

  http::Response other = Call(UploadRequest(Wheel("different"), upload_token_));
  EXPECT_EQ(other.status, 409) << other.reason;
  EXPECT_FALSE(other.reason.empty());

  std::filesystem::path fresh = MakeWheel(dist_dir(), "acme-logger", "3.0");
  http::Response bad_digest = Call(UploadRequest(
      fresh, upload_token_, {{"version", "3.0"}, {"sha256_digest", std::string(64, 'f')}}));
  EXPECT_EQ(bad_digest.status, 400) << bad_digest.reason;
  auto found = catalog::FindFileAnywhere(*catalog_, fresh.filename().string());
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value()) << "a refused upload reached the catalog";
  EXPECT_NE(metrics_.Render().find("pipy_uploads_total{result=\"rejected\"} 2"),
            std::string::npos)
      << metrics_.Render();
  EXPECT_EQ(UploadTempFiles(), 0u);
}

TEST_F(RoutesTest, UploadNeedsTheRightTokenAndForm) {
  std::filesystem::path wheel = Wheel();
  http::Response anonymous = Call(UploadRequest(wheel, ""));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_TRUE(anonymous.header("www-authenticate").has_value());
  EXPECT_EQ(Call(UploadRequest(wheel, "pipy_not-a-real-token")).status, 401);
  EXPECT_EQ(Call(UploadRequest(wheel, read_token_)).status, 403);

  http::Response wrong_action =
      Call(UploadRequest(wheel, upload_token_, {{":action", "submit"}}));
  EXPECT_EQ(wrong_action.status, 400);
  EXPECT_NE(wrong_action.reason.find(":action"), std::string::npos) << wrong_action.reason;

  http::Request not_multipart = UploadRequest(wheel, upload_token_);
  not_multipart.headers[0].value = "application/json";
  EXPECT_EQ(Call(std::move(not_multipart)).status, 400);

  http::Request truncated = UploadRequest(wheel, upload_token_);
  truncated.body.memory.resize(truncated.body.memory.size() / 2);
  http::Response r = Call(std::move(truncated));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.reason.find("truncated"), std::string::npos) << r.reason;
  EXPECT_EQ(UploadTempFiles(), 0u);
}

TEST_F(RoutesTest, UploadFromSpooledBody) {
  std::filesystem::path wheel = Wheel();
  http::Request request = UploadRequest(wheel, upload_token_);
  std::filesystem::path spooled = tmp_.path() / "spooled-body";
  std::ofstream(spooled, std::ios::binary) << request.body.memory;
  request.body.memory.clear();
  request.body.file = spooled;
  http::Response r = Call(std::move(request));
  ASSERT_EQ(r.status, 200) << r.reason;
  EXPECT_EQ(GetJson("/simple/acme-logger/").at("files").as_array().size(), 1u);
}

TEST_F(RoutesTest, YankAndUnyank) {
  UploadOk(Wheel());
  auto yank = [&](const std::string& method, const std::string& body, const std::string& token) {
    http::Request request;
    request.method = method;
    request.target = "/api/python/Acme.Logger/1.0/yank";
    if (!token.empty()) {
      request.headers.push_back({"Authorization", "Bearer " + token});
    }
    request.body.memory = body;
    request.body.size = body.size();
    return Call(std::move(request));
  };
  EXPECT_EQ(yank("POST", "{\"reason\": \"x\"}", "").status, 401);
  EXPECT_EQ(yank("POST", "{\"reason\": \"x\"}", read_token_).status, 403);
  EXPECT_EQ(yank("POST", "{not json", upload_token_).status, 400);
  EXPECT_EQ(yank("POST", "{\"reason\": 5}", upload_token_).status, 400);

  http::Response ok = yank("POST", "{\"reason\": \"broken \\\"import\\\"\"}", upload_token_);
  ASSERT_EQ(ok.status, 200) << ok.reason;
  EXPECT_EQ(json::parse(BodyOf(ok)).at("yanked").as_bool(), true);
  std::string html = BodyOf(Get("/simple/acme-logger/"));
  EXPECT_NE(html.find("data-yanked=\"broken &quot;import&quot;\""), std::string::npos) << html;
  EXPECT_EQ(GetJson("/simple/acme-logger/").at("files").at(0).at("yanked").as_string(),
            "broken \"import\"");

  http::Response unyank = yank("DELETE", "", upload_token_);
  ASSERT_EQ(unyank.status, 200) << unyank.reason;
  http::Response after = Get("/simple/acme-logger/");
  EXPECT_EQ(BodyOf(after).find("data-yanked"), std::string::npos);
  EXPECT_EQ(GetJson("/simple/acme-logger/").at("files").at(0).at("yanked").as_bool(), false);

  // Yanking without a reason gives an empty data-yanked attribute and JSON true.
  ASSERT_EQ(yank("POST", "", upload_token_).status, 200);
  EXPECT_NE(BodyOf(Get("/simple/acme-logger/"))
                .find("data-yanked=\"\""),
            std::string::npos);
  EXPECT_EQ(GetJson("/simple/acme-logger/").at("files").at(0).at("yanked").as_bool(), true);
  EXPECT_EQ(yank("POST", "", upload_token_).status, 200);

  http::Request missing;
  missing.method = "POST";
  missing.target = "/api/python/acme-logger/9.9/yank";
  missing.headers.push_back({"Authorization", "Bearer " + upload_token_});
  EXPECT_EQ(Call(std::move(missing)).status, 404);
}

// The form's filetype and pyversion must fit the file: a wheel is bdist_wheel with its
// Python tag, an sdist is sdist with "source". A mismatch is a 400 and stores nothing.
TEST_F(RoutesTest, FormFiletypeOrPyversionThatDisagreeWithTheFilenameAre400) {
  std::filesystem::path wheel = Wheel();
  std::filesystem::path sdist_dir = dist_dir() / "kinds";
  std::filesystem::create_directories(sdist_dir);
  std::filesystem::path sdist = pipy::testing::MakeSdist(sdist_dir, "acme-logger", "1.0");
  struct Case {
    std::filesystem::path file;
    std::vector<Field> fields;
    std::string says;
  };
  const std::vector<Case> cases = {
      {wheel, {{"filetype", "sdist"}}, "filetype"},
      {wheel, {{"filetype", "bdist_egg"}}, "filetype"},
      {wheel, {{"pyversion", "source"}}, "pyversion"},
      {sdist, {{"filetype", "bdist_wheel"}, {"pyversion", "source"}}, "filetype"},
      {sdist, {{"filetype", "sdist"}, {"pyversion", "py3"}}, "pyversion"},
  };
  for (const Case& c : cases) {
    http::Response r = Call(UploadRequest(c.file, upload_token_, c.fields));
    EXPECT_EQ(r.status, 400) << c.file.filename() << " " << c.fields[0].value;
    EXPECT_NE(r.reason.find(c.says), std::string::npos) << r.reason;
  }
  EXPECT_EQ(Get("/simple/acme-logger/").status, 404) << "nothing was stored";
  UploadOk(wheel);
  http::Response ok = Call(UploadRequest(sdist, upload_token_,
                                         {{"filetype", "sdist"}, {"pyversion", "source"}}));
  EXPECT_EQ(ok.status, 200) << ok.reason;
}

// An admin's takedown: DELETE of a file, then of the whole release. Each disappears from
// the pages and the download path at once, and its names are tombstones.
TEST_F(RoutesTest, TakedownOfAFileAndOfAReleaseIsAdminOnlyAndTombstonesTheNames) {
  const std::string admin = AddToken("root", {"admin"});
  std::filesystem::path wheel = Wheel();
  UploadOk(wheel);
  std::filesystem::path sdist_dir = dist_dir() / "sdist";
  std::filesystem::create_directories(sdist_dir);
  std::filesystem::path sdist = pipy::testing::MakeSdist(sdist_dir, "acme-logger", "1.0");
  http::Response up = Call(UploadRequest(sdist, upload_token_,
                                         {{"filetype", "sdist"}, {"pyversion", "source"}}));
  ASSERT_EQ(up.status, 200) << up.reason;
  const std::string wheel_name = wheel.filename().string();
  const std::string sdist_name = sdist.filename().string();
  const std::string wheel_url =
      "/files/" + Sha256Hex(ReadFile(wheel)) + "/" + wheel_name;
  ASSERT_EQ(Get(wheel_url).status, 200);

  auto remove = [&](const std::string& target, const std::string& token) {
    http::Request request;
    request.method = "DELETE";
    request.target = target;
    if (!token.empty()) {
      request.headers.push_back({"Authorization", "Bearer " + token});
    }
    return Call(std::move(request));
  };
  const std::string file_target = "/api/python/acme-logger/1.0/" + wheel_name;
  EXPECT_EQ(remove(file_target, "").status, 401);
  EXPECT_EQ(remove(file_target, read_token_).status, 403);
  EXPECT_EQ(remove(file_target, upload_token_).status, 403) << "upload rights are not enough";
  EXPECT_EQ(remove("/api/python/acme-logger/1.0/acme_logger-1.0-py2-none-any.whl", admin).status,
            404);
  EXPECT_EQ(remove("/api/python/acme-logger/2.0/" + wheel_name, admin).status, 404)
      << "the file is not of release 2.0";
  EXPECT_EQ(Get(wheel_url).status, 200) << "nothing was removed by the refusals";

  http::Response gone = remove("/api/python/Acme.Logger/1.0.0/" + wheel_name, admin);
  ASSERT_EQ(gone.status, 200) << gone.reason;
  json::value body = json::parse(BodyOf(gone));
  EXPECT_EQ(body.at("version").as_string(), "1.0");
  EXPECT_EQ(body.at("removed"), json::array({json::value(wheel_name)}));
  EXPECT_EQ(Get(wheel_url).status, 404);
  std::string html = BodyOf(Get("/simple/acme-logger/"));
  EXPECT_EQ(html.find(wheel_name), std::string::npos) << html;
  EXPECT_NE(html.find(sdist_name), std::string::npos) << "the release's other file stays";
  http::Response again = Call(UploadRequest(wheel, upload_token_));
  EXPECT_EQ(again.status, 409) << "a taken-down filename is never published again";

  http::Response release = remove("/api/python/acme-logger/1.0", admin);
  ASSERT_EQ(release.status, 200) << release.reason;
  EXPECT_EQ(json::parse(BodyOf(release)).at("removed"), json::array({json::value(sdist_name)}));
  EXPECT_EQ(Get("/api/python/acme-logger/1.0").status, 404);
  EXPECT_EQ(remove("/api/python/acme-logger/1.0", admin).status, 404);
  std::filesystem::path other = Wheel("other");  // new bytes, same version: still refused
  EXPECT_EQ(Call(UploadRequest(other, upload_token_)).status, 409);
}

TEST_F(RoutesTest, AnonymousReadsCanBeTurnedOff) {
  UploadOk(Wheel());
  auth::AccessOptions closed;
  closed.anonymous_read = false;
  auto authenticator = auth::Authenticator::Create(*catalog_, closed);
  ASSERT_TRUE(authenticator);
  app::Access access(*authenticator);
  http::Router router;
  RegisterRoutes(router, *index_, access, metrics_, {.tmp_dir = upload_tmp()});
  router_ = std::move(router);
  EXPECT_EQ(Get("/simple/acme-logger/").status, 401);
  EXPECT_EQ(Get("/simple/").status, 401);
  EXPECT_EQ(Get("/simple/acme-logger/", {{"Authorization", "Bearer " + read_token_}}).status, 200);
}

}  // namespace
}  // namespace pipy::python
