// The S3 client's signed requests and presigned URLs, compared with what Debian's
// python3-botocore (AWS's own Python signer) computes for the same inputs and time.
// sigv4_botocore.py builds its URLs with urllib's quoting, independently of ours.
#include <gtest/gtest.h>
#include <stdio.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "storage/s3_client.h"
#include "testing/temp_dir.h"

namespace pipy::storage {
namespace {

namespace json = boost::json;

constexpr std::int64_t kTime = 1718000000;  // 2024-06-10T06:13:20Z
const std::string kKey(64, 'c');

// Runs the botocore script on `input`; returns its "results" array.
json::array Botocore(const json::object& input) {
  pipy::testing::TempDir tmp("pipy-botocore");
  std::filesystem::path in = tmp.path() / "input.json";
  std::ofstream(in) << json::serialize(input);
  std::string command = "/usr/bin/python3 " PIPY_SOURCE_DIR "/src/storage/sigv4_botocore.py < " +
                        in.string();
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string out;
  if (pipe != nullptr) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
      out.append(buf, n);
    }
    int rc = ::pclose(pipe);
    EXPECT_EQ(rc, 0) << "botocore script failed (is python3-botocore installed? "
                        "scripts/install-deps.sh installs it)";
  }
  boost::system::error_code ec;
  json::value v = json::parse(out, ec);
  if (ec || !v.is_object() || !v.as_object().contains("results")) {
    ADD_FAILURE() << "unexpected botocore output: " << out;
    return {};
  }
  return v.as_object().at("results").as_array();
}

std::string AuthorizationOf(const S3PreparedRequest& prepared) {
  for (const std::string& line : prepared.header_lines) {
    if (line.rfind("Authorization: ", 0) == 0) {
      return line.substr(15);
    }
  }
  return "";
}

struct Case {
  bool path_style;
  std::string endpoint;
  std::string host;  // as botocore should see it, written out by hand
  S3Request request;
  std::string path;  // raw path botocore signs
};

std::unique_ptr<S3Client> MakeClient(const std::string& endpoint, bool path_style) {
  S3ClientOptions options;
  options.endpoint = endpoint;
  options.bucket = "pipy-test";
  options.region = "eu-west-3";
  options.path_style = path_style;
  options.credentials = {"AKIDPIPYTEST", "pipy/secret+key=", ""};
  options.clock = [] { return kTime; };
  auto client = S3Client::Create(options);
  EXPECT_TRUE(client.has_value()) << client.error().ToString();
  return client.has_value() ? std::move(*client) : nullptr;
}

TEST(SigV4BotocoreTest, SignedRequestsMatchBotocore) {
  const std::string odd = "team space/\xC3\xBC+=&$@:,;~!'()*/blobs/" + kKey;
  std::vector<Case> cases;
  {
    S3Request put;
    put.method = "PUT";
    put.object_key = odd;
    put.body = "hello, pipy";
    cases.push_back({true, "http://127.0.0.1:17900", "127.0.0.1:17900", put, "/pipy-test/" + odd});
  }
  {
    S3Request get;
    get.object_key = "blobs/" + kKey;
    get.headers = {{"Range", "bytes=100-"}};
    cases.push_back({false, "https://s3.example.com", "pipy-test.s3.example.com", get,
                     "/blobs/" + kKey});
  }
  {
    S3Request list;
    list.query = {{"list-type", "2"},
                  {"prefix", "a b/\xC3\xBC+blobs/"},
                  {"continuation-token", "1/x+y==&z"},
                  {"max-keys", "1000"}};
    cases.push_back({true, "http://127.0.0.1:17900", "127.0.0.1:17900", list, "/pipy-test"});
  }
  {
    S3Request create;
    create.method = "POST";
    create.object_key = "blobs/" + kKey;
    create.query = {{"uploads", ""}};
    cases.push_back({true, "http://localhost:9000", "localhost:9000", create,
                     "/pipy-test/blobs/" + kKey});
  }
  {
    S3Request abort;
    abort.method = "DELETE";
    abort.object_key = "blobs/" + kKey;
    abort.query = {{"uploadId", "2~abc/def+=="}};
    cases.push_back({false, "http://minio.internal:9000", "pipy-test.minio.internal:9000", abort,
                     "/blobs/" + kKey});
  }

  json::object input{{"access_key", "AKIDPIPYTEST"},
                     {"secret_key", "pipy/secret+key="},
                     {"region", "eu-west-3"},
                     {"time", kTime}};
  json::array inputs;
  std::vector<S3PreparedRequest> ours;
  for (const Case& c : cases) {
    auto client = MakeClient(c.endpoint, c.path_style);
    ASSERT_NE(client, nullptr);
    ours.push_back(client->Prepare(c.request));
    json::object params;
    for (const auto& [name, value] : c.request.query) {
      params[name] = value;
    }
    json::object headers;
    for (const auto& [name, value] : c.request.headers) {
      headers[name] = value;
    }
    inputs.push_back(json::object{{"kind", "header"},
                                  {"method", c.request.method},
                                  {"scheme", c.endpoint.substr(0, c.endpoint.find(':'))},
                                  {"host", c.host},
                                  {"path", c.path},
                                  {"params", params},
                                  {"headers", headers},
                                  {"body", c.request.body}});
  }
  input["cases"] = inputs;
  json::array results = Botocore(input);
  ASSERT_EQ(results.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const json::object& r = results[i].as_object();
    std::string url(r.at("url").as_string());
    EXPECT_EQ(ours[i].url.substr(0, ours[i].url.find('?')), url) << "case " << i;
    EXPECT_EQ(AuthorizationOf(ours[i]), std::string(r.at("authorization").as_string()))
        << "case " << i << " " << cases[i].request.method << " " << url;
  }
}

TEST(SigV4BotocoreTest, PresignedUrlsMatchBotocore) {
  const std::string odd = "pre fix/\xC3\xA9t\xC3\xA9+1/blobs/" + kKey;
  auto path_style = MakeClient("http://127.0.0.1:17900", true);
  auto virtual_host = MakeClient("https://s3.example.com", false);
  ASSERT_NE(path_style, nullptr);
  ASSERT_NE(virtual_host, nullptr);
  std::vector<std::string> ours = {
      path_style->Presign("GET", odd, std::chrono::seconds(900)),
      virtual_host->Presign("GET", "blobs/" + kKey, std::chrono::seconds(3600)),
  };
  json::array cases{
      json::object{{"kind", "presign"}, {"method", "GET"}, {"scheme", "http"},
                   {"host", "127.0.0.1:17900"}, {"path", "/pipy-test/" + odd}, {"expires", 900}},
      json::object{{"kind", "presign"}, {"method", "GET"}, {"scheme", "https"},
                   {"host", "pipy-test.s3.example.com"}, {"path", "/blobs/" + kKey},
                   {"expires", 3600}},
  };
  json::array results = Botocore(json::object{{"access_key", "AKIDPIPYTEST"},
                                              {"secret_key", "pipy/secret+key="},
                                              {"region", "eu-west-3"},
                                              {"time", kTime},
                                              {"cases", cases}});
  ASSERT_EQ(results.size(), ours.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i], std::string(results[i].as_object().at("url").as_string())) << "case " << i;
  }
}

}  // namespace
}  // namespace pipy::storage
