#include "upstream/project_cache.h"

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>

#include "testing/temp_dir.h"

namespace pipy::upstream {
namespace {

const std::string kA(64, 'a');

// A scripted upstream: answers queued responses in order (or an error), records requests.
class FakeFetcher : public Fetcher {
 public:
  struct Answer {
    Status error;
    FetchHead head;
    std::string body;
  };
  std::deque<Answer> answers;
  std::vector<FetchRequest> requests;

  Status Get(const FetchRequest& request, const std::function<Status(const FetchHead&)>& on_head,
             const std::function<Status(std::string_view)>& on_data) override {
    requests.push_back(request);
    if (answers.empty()) {
      ADD_FAILURE() << "unexpected request for " << request.url;
      return BadGateway("no answer scripted");
    }
    Answer a = answers.front();
    answers.pop_front();
    if (!a.error.ok()) {
      return a.error;
    }
    a.head.url = request.url;
    PIPY_RETURN_IF_ERROR(on_head(a.head));
    return on_data(a.body);
  }

  void Page(std::string body, std::string etag = "\"v1\"",
            std::string content_type = "text/html") {
    Answer a;
    a.head.status = 200;
    a.head.content_type = std::move(content_type);
    a.head.etag = std::move(etag);
    a.head.last_modified = "Mon, 01 Jan 2024 00:00:00 GMT";
    a.body = std::move(body);
    answers.push_back(std::move(a));
  }
  void Status_(int status) {
    Answer a;
    a.head.status = status;
    answers.push_back(std::move(a));
  }
  void Fail(Status error) {
    Answer a;
    a.error = std::move(error);
    answers.push_back(std::move(a));
  }
};

std::string HtmlPage(std::string_view filename) {
  return "<a href=\"/files/" + std::string(filename) + "#sha256=" + kA + "\">" +
         std::string(filename) + "</a>";
}

std::string Header(const FetchRequest& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) {
      return v;
    }
  }
  return "";
}

class ProjectCacheTest : public ::testing::Test {
 protected:
  ProjectCacheTest()
      : policy_(*UrlPolicy::Create("http://up.example/simple/", {})) {}

  std::unique_ptr<ProjectCache> MakeCache(FakeFetcher& fetcher) {
    ProjectCacheOptions options;
    options.upstream_url = "http://up.example/simple";
    options.ttl = std::chrono::milliseconds(1000);
    options.retry_after = std::chrono::milliseconds(100);
    options.dir = tmp_.path();
    options.now_ms = [this] { return now_; };
    options.on_error = [this](std::string_view kind, const Status&) {
      errors_.emplace_back(kind);
    };
    return std::make_unique<ProjectCache>(fetcher, policy_, std::move(options));
  }

  UrlPolicy policy_;
  pipy::testing::TempDir tmp_{"pipy-upstream-cache"};
  std::int64_t now_ = 1'000'000;
  std::vector<std::string> errors_;
};

TEST_F(ProjectCacheTest, ServesTheCopyWhileFreshThenRevalidatesWithValidators) {
  FakeFetcher fetcher;
  auto cache = MakeCache(fetcher);
  fetcher.Page(HtmlPage("foo-1.0.tar.gz"));
  auto first = cache->Get("foo");
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_TRUE((*first)->exists);
  ASSERT_EQ((*first)->project.files.size(), 1u);
  ASSERT_EQ(fetcher.requests.size(), 1u);
  EXPECT_EQ(fetcher.requests[0].url, "http://up.example/simple/foo/");
  EXPECT_NE(Header(fetcher.requests[0], "Accept").find("application/vnd.pypi.simple.v1+json"),
            std::string::npos);
  EXPECT_EQ(Header(fetcher.requests[0], "If-None-Match"), "");

  now_ += 999;  // still fresh: no request
  ASSERT_TRUE(cache->Get("foo").has_value());
  EXPECT_EQ(fetcher.requests.size(), 1u);

  now_ += 1;  // ttl reached: a conditional request; 304 renews the copy
  fetcher.Status_(304);
  auto renewed = cache->Get("foo");
  ASSERT_TRUE(renewed.has_value());
  ASSERT_EQ(fetcher.requests.size(), 2u);
  EXPECT_EQ(Header(fetcher.requests[1], "If-None-Match"), "\"v1\"");
  EXPECT_EQ(Header(fetcher.requests[1], "If-Modified-Since"), "Mon, 01 Jan 2024 00:00:00 GMT");
  EXPECT_EQ((*renewed)->project.files.size(), 1u);
  EXPECT_EQ((*renewed)->fresh_until_ms, now_ + 1000);
  EXPECT_FALSE((*renewed)->stale);

  now_ += 1000;  // a changed page replaces the copy
  fetcher.Page(HtmlPage("foo-1.0.tar.gz") + HtmlPage("foo-2.0.tar.gz"), "\"v2\"");
  auto changed = cache->Get("foo");
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ((*changed)->project.files.size(), 2u);
  EXPECT_TRUE(errors_.empty());
}

TEST_F(ProjectCacheTest, KeepsServingAStaleCopyWhileTheUpstreamFails) {
  FakeFetcher fetcher;
  auto cache = MakeCache(fetcher);
  fetcher.Page(HtmlPage("foo-1.0.tar.gz"));
  ASSERT_TRUE(cache->Get("foo").has_value());

  now_ += 5000;
  fetcher.Fail(DeadlineExceeded("slow"));
  auto stale = cache->Get("foo");
  ASSERT_TRUE(stale.has_value());
  EXPECT_TRUE((*stale)->stale);
  EXPECT_EQ((*stale)->project.files.size(), 1u);
  EXPECT_EQ(errors_, std::vector<std::string>{"timeout"});

  now_ += 50;  // within retry_after: no new request
  ASSERT_TRUE(cache->Get("foo").has_value());
  EXPECT_EQ(fetcher.requests.size(), 2u);

  now_ += 100;  // retried; a 500 is an error too, the copy is still served
  fetcher.Status_(500);
  auto again = cache->Get("foo");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(fetcher.requests.size(), 3u);
  EXPECT_EQ(errors_.size(), 2u);
  EXPECT_EQ(errors_[1], "bad_response");
}

TEST_F(ProjectCacheTest, WithoutACopyTheErrorIsReturned) {
  FakeFetcher fetcher;
  auto cache = MakeCache(fetcher);
  fetcher.Fail(DeadlineExceeded("slow"));
  auto timed_out = cache->Get("foo");
  ASSERT_FALSE(timed_out.has_value());
  EXPECT_EQ(timed_out.error().code(), StatusCode::kDeadlineExceeded);
  fetcher.Fail(BadGateway("cannot fetch: connection refused"));
  auto refused = cache->Get("foo");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kBadGateway);
  EXPECT_EQ(errors_, (std::vector<std::string>{"timeout", "unreachable"}));
}

TEST_F(ProjectCacheTest, A404MeansTheProjectDoesNotExistUpstream) {
  FakeFetcher fetcher;
  auto cache = MakeCache(fetcher);
  fetcher.Status_(404);
  auto missing = cache->Get("nothere");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE((*missing)->exists);
  ASSERT_TRUE(cache->Get("nothere").has_value());  // cached (briefly) too
  EXPECT_EQ(fetcher.requests.size(), 1u);
}

TEST_F(ProjectCacheTest, ParsesJsonByContentTypeAndRefusesBrokenJson) {
  FakeFetcher fetcher;
  auto cache = MakeCache(fetcher);
  fetcher.Page(R"({"files":[{"filename":"foo-1.0.tar.gz","url":"/p/foo-1.0.tar.gz",)"
               R"("hashes":{"sha256":")" + kA + R"("}}]})",
               "\"j\"", "application/vnd.pypi.simple.v1+json");
  auto json = cache->Get("foo");
  ASSERT_TRUE(json.has_value());
  ASSERT_EQ((*json)->project.files.size(), 1u);
  EXPECT_EQ((*json)->project.files[0].url, "http://up.example/p/foo-1.0.tar.gz");

  fetcher.Page("{broken", "\"b\"", "application/vnd.pypi.simple.v1+json");
  auto broken = cache->Get("bar");
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code(), StatusCode::kBadGateway);
}

TEST_F(ProjectCacheTest, TheDiskCopySurvivesARestartAndAnOutage) {
  {
    FakeFetcher fetcher;
    auto cache = MakeCache(fetcher);
    fetcher.Page(HtmlPage("foo-1.0.tar.gz"));
    ASSERT_TRUE(cache->Get("foo").has_value());
  }
  FakeFetcher down;
  auto restarted = MakeCache(down);
  auto peeked = restarted->Peek("foo");
  ASSERT_NE(peeked, nullptr);
  EXPECT_EQ(peeked->project.files.size(), 1u);
  EXPECT_EQ(restarted->Peek("other"), nullptr);
  EXPECT_TRUE(down.requests.empty());

  now_ += 10'000;  // stale and the upstream is down: the disk copy is served
  down.Fail(BadGateway("cannot fetch: connection refused"));
  auto served = restarted->Get("foo");
  ASSERT_TRUE(served.has_value());
  EXPECT_TRUE((*served)->stale);
  ASSERT_EQ(down.requests.size(), 1u);
  EXPECT_EQ(Header(down.requests[0], "If-None-Match"), "\"v1\"");  // validators persisted
}

TEST_F(ProjectCacheTest, FilesOnForeignHostsAreNeverListed) {
  FakeFetcher fetcher;
  auto cache = MakeCache(fetcher);
  fetcher.Page("<a href=\"http://169.254.169.254/foo-1.0.tar.gz#sha256=" + kA +
               "\">foo-1.0.tar.gz</a>" + HtmlPage("foo-2.0.tar.gz"));
  auto got = cache->Get("foo");
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ((*got)->project.files.size(), 1u);
  EXPECT_EQ((*got)->project.files[0].filename, "foo-2.0.tar.gz");
}

}  // namespace
}  // namespace pipy::upstream
