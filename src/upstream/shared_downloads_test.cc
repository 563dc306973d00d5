#include "upstream/shared_downloads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "core/sha256.h"
#include "testing/temp_dir.h"

namespace pipy::upstream {
namespace {

using std::chrono_literals::operator""ms;

// An upstream whose files arrive in pieces, each only once the test allowed that many
// bytes (Allow), so a test holds fetches open while requests pile up. Counts fetches.
class GatedFetcher : public Fetcher {
 public:
  std::map<std::string, std::string> files;  // url -> body
  int status = 200;
  std::size_t piece = 4096;
  Status fail_after_body;                    // returned after the whole body when set
  bool send_length = true;                   // a Content-Length in the head

  Status Get(const FetchRequest& request, const std::function<Status(const FetchHead&)>& on_head,
             const std::function<Status(std::string_view)>& on_data) override {
    ++gets;
    {
      std::lock_guard lock(mu_);
      ++gets_by_url_[request.url];
    }
    const std::string& body = files.at(request.url);
    FetchHead head;
    head.status = status;
    head.url = request.url;
    if (send_length) {
      head.content_length = body.size();
    }
    PIPY_RETURN_IF_ERROR(on_head(head));
    for (std::size_t at = 0; at < body.size(); at += piece) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return allowed_ > at; });
      }
      PIPY_RETURN_IF_ERROR(on_data(std::string_view(body).substr(at, piece)));
    }
    return fail_after_body;
  }

  void Allow(std::size_t bytes) {
    std::lock_guard lock(mu_);
    allowed_ = bytes;
    cv_.notify_all();
  }
  int GetsOf(const std::string& url) {
    std::lock_guard lock(mu_);
    return gets_by_url_[url];
  }

  std::atomic<int> gets{0};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t allowed_ = std::string::npos;
  std::map<std::string, int> gets_by_url_;
};

std::string RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) {
    c = static_cast<char>(gen());
  }
  return out;
}

// Everything a stream yields, and its final status (OK = ended with 0).
struct Drained {
  std::string bytes;
  Status end;
};

Drained Drain(DownloadStream& stream) {
  Drained out;
  char buf[10'000];
  for (;;) {
    auto got = stream.Read(buf, sizeof buf);
    if (!got) {
      out.end = got.error();
      return out;
    }
    if (*got == 0) {
      return out;
    }
    out.bytes.append(buf, *got);
  }
}

// A failed fetch is an error response when it failed before the request got its stream,
// else a stream that ends with the error: either way, never a complete file.
Drained OpenAndDrain(SharedDownloads& downloads, DownloadJob job) {
  auto opened = downloads.Open(std::move(job));
  if (!opened) {
    return Drained{"", opened.error()};
  }
  return Drain(**opened);
}

class SharedDownloadsTest : public ::testing::Test {
 protected:
  SharedDownloadsTest() {
    std::filesystem::create_directories(root_.path() / "store");
    options_.dir = root_.path() / "downloads";
    options_.timeout = 2'000ms;
    options_.slot_wait = 200ms;
  }

  std::unique_ptr<SharedDownloads> Make() {
    return std::make_unique<SharedDownloads>(fetcher_, options_, [this](const Status& error) {
      std::lock_guard lock(mu_);
      errors_.push_back(error);
    });
  }

  // A job for `url` whose commit moves the verified file into store/ and counts.
  DownloadJob Job(const std::string& url, const std::string& sha256) {
    DownloadJob job;
    job.url = url;
    job.sha256 = sha256;
    job.filename = "x-1.0.tar.gz";
    job.commit = [this, sha256](const std::filesystem::path& path) {
      ++commits_;
      std::filesystem::rename(path, root_.path() / "store" / sha256);
      return Status::Ok();
    };
    return job;
  }

  std::string Stored(const std::string& sha256) {
    std::ifstream in(root_.path() / "store" / sha256, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  bool DownloadsDirEmpty() { return std::filesystem::is_empty(options_.dir); }

  void WaitIdle(SharedDownloads& downloads) {
    for (int i = 0; i < 500 && downloads.running() > 0; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(downloads.running(), 0);
  }

  pipy::testing::TempDir root_{"pipy-shared-downloads"};  // first: outlives the members using it
  SharedDownloadsOptions options_;
  GatedFetcher fetcher_;
  std::atomic<int> commits_{0};
  std::mutex mu_;
  std::vector<Status> errors_;
};

TEST_F(SharedDownloadsTest, ConcurrentRequestsForOneFileShareOneFetch) {
  const std::string body = RandomBytes(300'000, 1);
  const std::string sha = Sha256Hex(body);
  fetcher_.files["http://up/x"] = body;
  fetcher_.Allow(10'000);  // the fetch starts, then holds: every request joins it
  auto downloads = Make();

  constexpr int kClients = 40;
  std::vector<std::unique_ptr<DownloadStream>> streams(kClients);
  std::vector<std::thread> openers;
  for (int i = 0; i < kClients; ++i) {
    openers.emplace_back([&, i] {
      auto opened = downloads->Open(Job("http://up/x", sha));
      ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
      streams[i] = std::move(*opened);
    });
  }
  for (auto& t : openers) {
    t.join();
  }
  EXPECT_EQ(downloads->running(), 1);
  fetcher_.Allow(std::string::npos);
  std::vector<Drained> drained(kClients);
  std::vector<std::thread> readers;
  for (int i = 0; i < kClients; ++i) {
    readers.emplace_back([&, i] { drained[i] = Drain(*streams[i]); });
  }
  for (auto& t : readers) {
    t.join();
  }
  for (const Drained& d : drained) {
    EXPECT_TRUE(d.end.ok()) << d.end.ToString();
    EXPECT_TRUE(d.bytes == body);
  }
  EXPECT_EQ(fetcher_.gets.load(), 1);
  EXPECT_EQ(commits_.load(), 1);
  EXPECT_TRUE(Stored(sha) == body);
  WaitIdle(*downloads);
  EXPECT_TRUE(DownloadsDirEmpty());
}

TEST_F(SharedDownloadsTest, ReadsReturnWhatIsFetchedWithoutWaitingForMore) {
  const std::string body = RandomBytes(50'000, 2);
  fetcher_.files["http://up/x"] = body;
  fetcher_.piece = 1000;
  fetcher_.Allow(3000);
  auto downloads = Make();
  auto opened = downloads->Open(Job("http://up/x", Sha256Hex(body)));
  ASSERT_TRUE(opened.has_value());
  std::string got;
  char buf[100'000];
  while (got.size() < 3000) {
    auto n = (*opened)->Read(buf, sizeof buf);
    ASSERT_TRUE(n.has_value());
    ASSERT_GT(*n, 0u);
    got.append(buf, *n);
  }
  EXPECT_EQ(got, body.substr(0, 3000));
  fetcher_.Allow(std::string::npos);
  Drained rest = Drain(**opened);
  EXPECT_TRUE(rest.end.ok());
  EXPECT_TRUE(got + rest.bytes == body);
}

// A client that never reads (or went away) neither stalls nor cancels the fetch: it
// finishes once into the cache, and later requests are served from there.
TEST_F(SharedDownloadsTest, ClientsThatStopReadingDoNotHoldTheFetch) {
  const std::string body = RandomBytes(2'000'000, 3);
  const std::string sha = Sha256Hex(body);
  fetcher_.files["http://up/x"] = body;
  fetcher_.Allow(10'000);
  auto downloads = Make();
  auto idle = downloads->Open(Job("http://up/x", sha));  // never read
  ASSERT_TRUE(idle.has_value());
  {
    auto gone = downloads->Open(Job("http://up/x", sha));
    ASSERT_TRUE(gone.has_value());
    char buf[100];
    ASSERT_TRUE((*gone)->Read(buf, sizeof buf).has_value());
  }  // disconnected after a few bytes
  fetcher_.Allow(std::string::npos);
  WaitIdle(*downloads);
  EXPECT_EQ(commits_.load(), 1);
  EXPECT_TRUE(Stored(sha) == body);
  EXPECT_EQ(fetcher_.gets.load(), 1);
  // The idle reader still gets the whole file when it finally reads.
  Drained late = Drain(**idle);
  EXPECT_TRUE(late.end.ok());
  EXPECT_TRUE(late.bytes == body);
}

TEST_F(SharedDownloadsTest, AShaMismatchFailsEveryReaderAndKeepsNothing) {
  const std::string body = RandomBytes(100'000, 4);
  const std::string published = Sha256Hex("something else");
  fetcher_.files["http://up/x"] = body;
  fetcher_.Allow(0);
  auto downloads = Make();
  std::vector<std::unique_ptr<DownloadStream>> streams;
  for (int i = 0; i < 5; ++i) {
    auto opened = downloads->Open(Job("http://up/x", published));
    ASSERT_TRUE(opened.has_value());
    streams.push_back(std::move(*opened));
  }
  fetcher_.Allow(std::string::npos);
  for (auto& s : streams) {
    Drained d = Drain(*s);
    EXPECT_EQ(d.end.code(), StatusCode::kDataLoss) << d.end.ToString();
    EXPECT_LE(d.bytes.size(), body.size());
  }
  WaitIdle(*downloads);
  EXPECT_EQ(commits_.load(), 0);
  EXPECT_TRUE(DownloadsDirEmpty());
  std::lock_guard lock(mu_);
  ASSERT_EQ(errors_.size(), 1u);  // one failed fetch, however many readers
  EXPECT_EQ(errors_[0].code(), StatusCode::kDataLoss);
}

TEST_F(SharedDownloadsTest, AFetchFailingMidwayFailsItsReadersAndTheNextRequestRetries) {
  const std::string body = RandomBytes(100'000, 5);
  const std::string sha = Sha256Hex(body);
  fetcher_.files["http://up/x"] = body;
  fetcher_.fail_after_body = BadGateway("connection reset");
  auto downloads = Make();
  EXPECT_EQ(OpenAndDrain(*downloads, Job("http://up/x", sha)).end.code(),
            StatusCode::kBadGateway);
  WaitIdle(*downloads);
  EXPECT_EQ(commits_.load(), 0);

  fetcher_.fail_after_body = Status::Ok();
  auto again = downloads->Open(Job("http://up/x", sha));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(Drain(**again).bytes == body);
  EXPECT_EQ(fetcher_.gets.load(), 2);
}

TEST_F(SharedDownloadsTest, AnUpstreamErrorIsAnErrorNotAStream) {
  fetcher_.files["http://up/x"] = "not found";
  fetcher_.status = 404;
  auto downloads = Make();
  auto opened = downloads->Open(Job("http://up/x", Sha256Hex("x")));
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code(), StatusCode::kBadGateway);
}

TEST_F(SharedDownloadsTest, AFileOverTheSizeLimitIsNotKept) {
  const std::string body = RandomBytes(50'000, 6);
  fetcher_.files["http://up/x"] = body;
  options_.max_file_bytes = 10'000;
  auto downloads = Make();
  auto opened = downloads->Open(Job("http://up/x", Sha256Hex(body)));
  ASSERT_FALSE(opened.has_value());  // the announced length is over the limit
  EXPECT_EQ(opened.error().code(), StatusCode::kBadGateway);
  WaitIdle(*downloads);
  // Without a length, the fetch stops at the limit.
  fetcher_.send_length = false;
  Drained d = OpenAndDrain(*downloads, Job("http://up/x", Sha256Hex(body)));
  EXPECT_EQ(d.end.code(), StatusCode::kBadGateway);
  EXPECT_LE(d.bytes.size(), 10'000u);
  WaitIdle(*downloads);
  EXPECT_EQ(commits_.load(), 0);
  EXPECT_TRUE(DownloadsDirEmpty());
}

TEST_F(SharedDownloadsTest, DistinctFetchesAreBounded) {
  options_.max_fetches = 2;
  unsigned seed = 7;
  for (const char* url : {"http://up/a", "http://up/b", "http://up/c"}) {
    fetcher_.files[url] = RandomBytes(20'000, seed++);
  }
  const std::string sha = Sha256Hex(fetcher_.files["http://up/a"]);
  fetcher_.Allow(0);  // both fetches hold their slot
  auto downloads = Make();
  auto a = downloads->Open(Job("http://up/a", sha));
  auto b = downloads->Open(Job("http://up/b", std::string(64, 'b')));
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(downloads->running(), 2);

  auto start = std::chrono::steady_clock::now();
  auto c = downloads->Open(Job("http://up/c", std::string(64, 'c')));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), StatusCode::kUnavailable);
  EXPECT_GE(std::chrono::steady_clock::now() - start, options_.slot_wait - 10ms);
  EXPECT_EQ(fetcher_.GetsOf("http://up/c"), 0);
  // Another request for a file being fetched joins it: no slot needed.
  auto a2 = downloads->Open(Job("http://up/a", sha));
  EXPECT_TRUE(a2.has_value());

  // A request waiting for a slot gets the one a finishing fetch frees.
  std::thread release([&] {
    std::this_thread::sleep_for(50ms);
    fetcher_.Allow(std::string::npos);
  });
  auto waited = downloads->Open(Job("http://up/c", Sha256Hex(fetcher_.files["http://up/c"])));
  release.join();
  EXPECT_TRUE(waited.has_value()) << waited.error().ToString();
  EXPECT_EQ(fetcher_.GetsOf("http://up/c"), 1);
  EXPECT_TRUE(Drain(**a).bytes == fetcher_.files["http://up/a"]);
  WaitIdle(*downloads);
}

TEST_F(SharedDownloadsTest, LeftoverTempFilesAreRemovedAtStart) {
  std::filesystem::create_directories(options_.dir);
  std::ofstream(options_.dir / "dead.0.part") << "partial";
  auto downloads = Make();
  EXPECT_TRUE(DownloadsDirEmpty());
}

}  // namespace
}  // namespace pipy::upstream
