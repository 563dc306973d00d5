// S3BlobStore against a real, signature-checking S3 server (s3rver, started by the ctest
// fixture "s3" through tests/services/s3.sh; PIPY_S3_ENDPOINT says where). Every store
// gets its own key prefix in the bucket "pipy-test", so tests never see each other's blobs.
#include "storage/s3_blob_store.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "storage/blob_store_conformance.h"
#include "storage/factory.h"
#include "storage/s3_layout.h"
#include "storage/s3_xml.h"
#include "testing/temp_dir.h"

namespace pipy::storage {
namespace {

namespace fs = std::filesystem;

constexpr char kBucket[] = "pipy-test";

std::string Endpoint() {
  const char* e = std::getenv("PIPY_S3_ENDPOINT");
  return e != nullptr ? e : "";
}

// One temp folder for the whole binary (spools, the factory's root), removed at exit.
const fs::path& SpoolDir() {
  static const pipy::testing::TempDir dir("pipy-s3-test");
  return dir.path();
}

// A prefix no other store (in this run or an earlier one) has used.
std::string FreshPrefix() {
  static std::atomic<int> counter{0};
  static const unsigned run = std::random_device{}();
  return "t" + std::to_string(::getpid()) + "-" + std::to_string(run) + "-" +
         std::to_string(counter.fetch_add(1)) + "/";
}

S3StoreOptions Options() {
  S3StoreOptions o;
  o.client.endpoint = Endpoint();
  o.client.bucket = kBucket;
  o.client.credentials = {"S3RVER", "S3RVER", ""};
  o.client.timeout = std::chrono::seconds(10);
  o.prefix = FreshPrefix();
  o.spool_dir = SpoolDir() / "spool";
  return o;
}

std::unique_ptr<S3BlobStore> MakeStore(S3StoreOptions o) {
  if (Endpoint().empty()) {
    ADD_FAILURE() << "PIPY_S3_ENDPOINT is not set: run through ctest (fixture \"s3\") or "
                     "start tests/services/s3.sh and export it";
    return nullptr;
  }
  auto store = S3BlobStore::Create(std::move(o));
  if (!store.has_value()) {
    ADD_FAILURE() << store.error().ToString();
    return nullptr;
  }
  return std::move(store).value();
}

std::unique_ptr<BlobStore> FreshS3Store() { return MakeStore(Options()); }

INSTANTIATE_TEST_SUITE_P(S3, BlobStoreConformanceTest,
                         ::testing::Values(BlobStoreConformanceParam{"s3", FreshS3Store}),
                         BlobStoreConformanceName);

// GETs `url` with plain libcurl (no signing); returns the status and fills `body`.
long Fetch(const std::string& url, std::string& body) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                   +[](char* d, std::size_t s, std::size_t n, void* u) {
                     static_cast<std::string*>(u)->append(d, s * n);
                     return s * n;
                   });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  }
  curl_easy_cleanup(curl);
  return status;
}

std::string RandomBytes(std::size_t n) {
  std::mt19937_64 gen(7);
  std::string out(n, '\0');
  for (char& c : out) {
    c = static_cast<char>(gen());
  }
  return out;
}

TEST(S3BlobStoreTest, CheckAccessPassesWithTheRightCredentials) {
  auto store = MakeStore(Options());
  ASSERT_NE(store, nullptr);
  Status s = store->CheckAccess();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(S3BlobStoreTest, WrongSecretIsPermissionDeniedAtTheProbeAndOnPut) {
  S3StoreOptions o = Options();
  o.client.credentials.secret_access_key = "not-the-secret";
  auto store = MakeStore(o);
  ASSERT_NE(store, nullptr);
  Status probe = store->CheckAccess();
  EXPECT_EQ(probe.code(), StatusCode::kPermissionDenied) << probe.ToString();
  EXPECT_NE(probe.message().find(kBucket), std::string::npos) << probe.message();
  EXPECT_NE(probe.message().find("SignatureDoesNotMatch"), std::string::npos) << probe.message();
  auto put = PutBytes(*store, "refused");
  ASSERT_FALSE(put.has_value());
  EXPECT_EQ(put.error().code(), StatusCode::kPermissionDenied) << put.error().ToString();
}

TEST(S3BlobStoreTest, UnknownAccessKeyIsPermissionDenied) {
  S3StoreOptions o = Options();
  o.client.credentials.access_key_id = "NOBODY";
  auto store = MakeStore(o);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->CheckAccess().code(), StatusCode::kPermissionDenied);
}

TEST(S3BlobStoreTest, MissingBucketIsNotFoundAndNamed) {
  S3StoreOptions o = Options();
  o.client.bucket = "no-such-bucket";
  auto store = MakeStore(o);
  ASSERT_NE(store, nullptr);
  Status s = store->CheckAccess();
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("no-such-bucket"), std::string::npos) << s.message();
}

TEST(S3BlobStoreTest, UnreachableEndpointIsUnavailableAfterBoundedRetries) {
  S3StoreOptions o = Options();
  o.client.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  o.client.max_attempts = 4;
  o.client.backoff = std::chrono::milliseconds(100);
  auto store = MakeStore(o);
  ASSERT_NE(store, nullptr);
  auto start = std::chrono::steady_clock::now();
  Status s = store->CheckAccess();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find(kBucket), std::string::npos) << s.message();
  // Three waits (100 + 200 + 400 ms) prove the retries; the bound proves they stop.
  EXPECT_GE(elapsed, std::chrono::milliseconds(700));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_EQ(PutBytes(*store, "x").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->Open(Sha256HexForTest("x")).status().code(), StatusCode::kUnavailable);
}

TEST(S3BlobStoreTest, ObjectsLiveUnderThePrefixOnly) {
  auto a = MakeStore(Options());
  auto b = MakeStore(Options());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto put = PutBytes(*a, "only in a");
  ASSERT_TRUE(put.has_value()) << put.status().ToString();
  EXPECT_EQ(b->Stat(put->key).status().code(), StatusCode::kNotFound);
  int in_b = 0;
  ASSERT_TRUE(b->List([&](const BlobInfo&) {
                 ++in_b;
                 return Status::Ok();
               }).ok());
  EXPECT_EQ(in_b, 0);

  // The raw bucket listing shows the object exactly at <prefix>blobs/<key>.
  S3Request list;
  list.query = {{"list-type", "2"}, {"prefix", a->options().prefix}};
  auto listed = a->client().Send(list);
  ASSERT_TRUE(listed.has_value()) << listed.status().ToString();
  std::vector<std::string> keys;
  for (std::string_view contents : xml::Elements(listed->body, "Contents")) {
    keys.push_back(xml::Text(contents, "Key").value_or(""));
  }
  EXPECT_EQ(keys, std::vector<std::string>{a->options().prefix + "blobs/" + put->key});
}

TEST(S3BlobStoreTest, ListSkipsObjectsThatAreNotBlobsAndPages) {
  S3StoreOptions o = Options();
  o.list_page_size = 3;  // 12 objects: four pages, continuation tokens included
  auto store = MakeStore(o);
  ASSERT_NE(store, nullptr);
  S3Request stray;
  stray.method = "PUT";
  stray.object_key = store->options().prefix + "blobs/README";
  stray.body = "not a blob";
  auto put = store->client().Send(stray);
  ASSERT_TRUE(put.has_value());
  ASSERT_EQ(put->status, 200) << put->body;
  std::set<std::string> expected;
  for (int i = 0; i < 11; ++i) {
    auto blob = PutBytes(*store, "blob " + std::to_string(i));
    ASSERT_TRUE(blob.has_value());
    expected.insert(blob->key);
  }
  std::multiset<std::string> listed;
  ASSERT_TRUE(store->List([&](const BlobInfo& info) {
                     listed.insert(info.key);
                     return Status::Ok();
                   }).ok());
  EXPECT_EQ(listed, std::multiset<std::string>(expected.begin(), expected.end()));
}

TEST(S3BlobStoreTest, LargeBlobGoesUpInParts) {
  S3StoreOptions o = Options();
  o.part_size = 5ull << 20;
  o.multipart_threshold = 5ull << 20;
  auto store = MakeStore(o);
  ASSERT_NE(store, nullptr);
  const std::string data = RandomBytes((12ull << 20) + 3);
  auto info = PutBytes(*store, data);
  ASSERT_TRUE(info.has_value()) << info.status().ToString();
  EXPECT_EQ(store->stats().multipart_uploads, 1u);
  EXPECT_EQ(store->stats().parts, 3u);
  EXPECT_EQ(store->stats().single_puts, 0u);
  auto stat = store->Stat(info->key);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->size, data.size());
  auto back = ReadAll(*store, info->key, 64ull << 20);
  ASSERT_TRUE(back.has_value()) << back.status().ToString();
  EXPECT_TRUE(*back == data) << "bytes differ";
}

TEST(S3BlobStoreTest, SmallBlobIsOnePutAndARecentDuplicateIsNotUploadedAgain) {
  auto store = MakeStore(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(PutBytes(*store, "twice").has_value());
  ASSERT_TRUE(PutBytes(*store, "twice").has_value());
  EXPECT_EQ(store->stats().single_puts, 1u);
  EXPECT_EQ(store->stats().skipped_uploads, 1u);
}

// Some S3 servers keep the bytes of a PUT cut short by a crash: an object under a blob's
// key with fewer bytes. The next commit of those bytes writes over it, however fresh.
TEST(S3BlobStoreTest, AnObjectOfAnotherSizeUnderTheKeyIsUploadedAgain) {
  auto store = MakeStore(Options());
  ASSERT_NE(store, nullptr);
  const std::string data = RandomBytes(4000);
  const std::string key = Sha256HexForTest(data);
  S3Request cut;
  cut.method = "PUT";
  cut.object_key = S3ObjectKey(store->options().prefix, key);
  cut.body = data.substr(0, 100);
  auto put = store->client().Send(cut);
  ASSERT_TRUE(put.has_value());
  ASSERT_EQ(put->status, 200) << put->body;
  auto damaged = store->Stat(key);
  ASSERT_TRUE(damaged.has_value()) << damaged.status().ToString();
  ASSERT_EQ(damaged->size, 100u) << "the raw PUT should sit under the blob's key";

  ASSERT_TRUE(PutBytes(*store, data).has_value());
  EXPECT_EQ(store->stats().skipped_uploads, 0u);
  auto back = ReadAll(*store, key, 1 << 20);
  ASSERT_TRUE(back.has_value()) << back.status().ToString();
  EXPECT_TRUE(*back == data) << "bytes differ";
}

TEST(S3BlobStoreTest, PresignedUrlServesTheBlobAndRefusesTampering) {
  S3StoreOptions o = Options();
  o.redirect_downloads = true;
  auto store = MakeStore(o);
  ASSERT_NE(store, nullptr);
  auto info = PutBytes(*store, "fetch me directly");
  ASSERT_TRUE(info.has_value());
  std::optional<std::string> url = store->DirectUrl(info->key);
  ASSERT_TRUE(url.has_value());
  EXPECT_NE(url->find("X-Amz-Expires=900&"), std::string::npos) << *url;
  std::string body;
  EXPECT_EQ(Fetch(*url, body), 200) << body;
  EXPECT_EQ(body, "fetch me directly");

  std::string tampered = *url;
  char& last = tampered.back();  // a signature hex digit
  last = last == '0' ? '1' : '0';
  body.clear();
  EXPECT_EQ(Fetch(tampered, body), 403) << body;

  // Another key under the same signature.
  std::string other = *url;
  std::size_t at = other.find(info->key);
  ASSERT_NE(at, std::string::npos);
  auto second = PutBytes(*store, "another blob");
  ASSERT_TRUE(second.has_value());
  other.replace(at, info->key.size(), second->key);
  body.clear();
  EXPECT_EQ(Fetch(other, body), 403) << body;
}

TEST(S3BlobStoreTest, NoDirectUrlUnlessRedirectsAreOn) {
  auto store = MakeStore(Options());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->DirectUrl(Sha256HexForTest("x")), std::nullopt);
}

TEST(S3BlobStoreTest, ReaderStreamsInPiecesAndReportsTheSize) {
  auto store = MakeStore(Options());
  ASSERT_NE(store, nullptr);
  const std::string data = RandomBytes(3 << 20);
  auto info = PutBytes(*store, data);
  ASSERT_TRUE(info.has_value());
  auto reader = store->Open(info->key);
  ASSERT_TRUE(reader.has_value()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), data.size());
  EXPECT_EQ((*reader)->native_fd(), -1);
  std::string back;
  char buf[1000];
  for (;;) {
    auto n = (*reader)->Read(buf, sizeof buf);
    ASSERT_TRUE(n.has_value()) << n.status().ToString();
    if (*n == 0) {
      break;
    }
    ASSERT_LE(*n, sizeof buf);
    back.append(buf, *n);
  }
  EXPECT_TRUE(back == data);
}

TEST(S3BlobStoreTest, AbandonedReaderDoesNotDisturbTheNextRequest) {
  auto store = MakeStore(Options());
  ASSERT_NE(store, nullptr);
  auto info = PutBytes(*store, RandomBytes(2 << 20));
  ASSERT_TRUE(info.has_value());
  for (int i = 0; i < 3; ++i) {
    auto reader = store->Open(info->key);
    ASSERT_TRUE(reader.has_value());
    char buf[10];
    ASSERT_TRUE((*reader)->Read(buf, sizeof buf).has_value());
  }  // each dropped after 10 bytes
  auto stat = store->Stat(info->key);
  ASSERT_TRUE(stat.has_value()) << stat.status().ToString();
  EXPECT_EQ(stat->size, 2u << 20);
}

// A one-thread HTTP server on 127.0.0.1 that answers each request with the next of
// `answers` (the last one repeated), one request per connection, and counts requests.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> answers) : answers_(std::move(answers)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

  static std::string Answer(int status, std::string_view body) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + std::string(body);
  }

 private:
  void Serve() {
    for (;;) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        return;
      }
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) {
          break;
        }
        request.append(buf, static_cast<std::size_t>(n));
      }
      int i = requests_.fetch_add(1);
      const std::string& answer = answers_[std::min<std::size_t>(i, answers_.size() - 1)];
      (void)::write(c, answer.data(), answer.size());
      ::close(c);
    }
  }

  std::vector<std::string> answers_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

constexpr std::string_view kSlowDown =
    "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";

TEST(S3BlobStoreTest, FiveHundredsAreRetriedThenSucceed) {
  ScriptedServer server({ScriptedServer::Answer(503, kSlowDown),
                         ScriptedServer::Answer(500, "<Error><Code>InternalError</Code></Error>"),
                         ScriptedServer::Answer(200, "<ListBucketResult></ListBucketResult>")});
  S3StoreOptions o = Options();
  o.client.endpoint = server.endpoint();
  o.client.backoff = std::chrono::milliseconds(10);
  auto store = MakeStore(o);
  ASSERT_NE(store, nullptr);
  Status s = store->CheckAccess();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(server.requests(), 3);
}

TEST(S3BlobStoreTest, PersistentFiveHundredsAreUnavailableAfterTheLastAttempt) {
  ScriptedServer server({ScriptedServer::Answer(503, kSlowDown)});
  S3StoreOptions o = Options();
  o.client.endpoint = server.endpoint();
  o.client.max_attempts = 3;
  o.client.backoff = std::chrono::milliseconds(10);
  auto store = MakeStore(o);
  ASSERT_NE(store, nullptr);
  Status s = store->CheckAccess();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("SlowDown"), std::string::npos) << s.message();
  EXPECT_EQ(server.requests(), 3);
  // A 4xx is an answer, not an outage: never retried.
  ScriptedServer refusing({ScriptedServer::Answer(403, "<Error><Code>AccessDenied</Code></Error>")});
  o.client.endpoint = refusing.endpoint();
  auto refused = MakeStore(o);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->CheckAccess().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refusing.requests(), 1);
}

TEST(S3BlobStoreTest, FactoryBuildsAndProbesAnS3Store) {
  StorageOptions o;
  o.backend = "s3";
  o.root = SpoolDir() / "factory";
  o.endpoint = Endpoint();
  o.bucket = kBucket;
  o.prefix = FreshPrefix();
  o.access_key_id = "S3RVER";
  o.secret_access_key = "S3RVER";
  auto store = MakeBlobStore(o);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  EXPECT_TRUE(PutBytes(**store, "via factory").has_value());

  o.secret_access_key = "wrong";
  auto refused = MakeBlobStore(o);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.error().message().find(kBucket), std::string::npos);
}

}  // namespace
}  // namespace pipy::storage
