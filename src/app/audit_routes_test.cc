#include "app/audit_routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "app/token_routes.h"
#include "catalog/factory.h"
#include "testing/temp_dir.h"

namespace pipy::app {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

TEST(ParseAuditTimeTest, TakesUnixSecondsAndRfc3339) {
  EXPECT_EQ(ParseAuditTime("1700000000").value(), kNow);
  EXPECT_EQ(ParseAuditTime("2023-11-14T22:13:20Z").value(), kNow);
  EXPECT_EQ(ParseAuditTime("2023-11-14T22:13:20.250Z").value(), kNow + 250);
  EXPECT_EQ(ParseAuditTime("2023-11-14T23:13:20+01:00").value(), kNow);
  EXPECT_EQ(ParseAuditTime("2023-11-14T21:13:20-01:00").value(), kNow);
  for (const char* bad :
       {"", "yesterday", "-5", "2023-11-14", "2023-11-14T22:13:20", "2023-13-14T22:13:20Z",
        "2023-11-14T22:13:20Zjunk", "1e9", "99999999999999999"}) {
    EXPECT_EQ(ParseAuditTime(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseAuditQueryTest, ReadsEveryParameter) {
  auto q = ParseAuditQuery(
      "project=acme-log&token=ci%20bot&action=tag.set&since=1700000000"
      "&limit=5&cursor=42");
  ASSERT_TRUE(q.has_value()) << q.status().ToString();
  EXPECT_EQ(q->project, "acme-log");
  EXPECT_EQ(q->token, "ci bot");
  EXPECT_EQ(q->action, "tag.set");
  EXPECT_EQ(q->since_ms, kNow);
  EXPECT_EQ(q->limit, 5);
  EXPECT_EQ(q->before_id, 42);
  auto defaults = ParseAuditQuery("");
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->limit, kDefaultAuditLimit);
  EXPECT_EQ(defaults->before_id, 0);
}

TEST(ParseAuditQueryTest, RefusesBadParametersNamingThem) {
  struct Case {
    const char* query;
    const char* named;
  };
  for (const Case& c :
       {Case{"limit=0", "limit"}, Case{"limit=1001", "limit"}, Case{"limit=ten", "limit"},
        Case{"cursor=abc", "cursor"}, Case{"cursor=-1", "cursor"}, Case{"since=soon", "since"},
        Case{"projcet=x", "projcet"}}) {
    auto q = ParseAuditQuery(c.query);
    ASSERT_FALSE(q.has_value()) << c.query;
    EXPECT_EQ(q.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(q.error().message().find(c.named), std::string::npos) << q.error().message();
  }
}

TEST(AuditEventOfTest, NamesTheActionsOfGuardedWriteRoutes) {
  auto line = [](std::string_view method, std::string_view path) {
    index::AuditEvent e = AuditEventOf(method, path);
    return std::string(e.action) + "|" + e.format + "|" + e.project + "|" + e.target;
  };
  EXPECT_EQ(line("POST", "/api/tokens"), "token.create|||");
  EXPECT_EQ(line("DELETE", "/api/tokens/ci"), "token.revoke|||ci");
  EXPECT_EQ(line("POST", "/api/builds"), "rebuild|||");
  EXPECT_EQ(line("POST", "/api/python/Acme.Log/1.0/yank"), "yank|python|acme-log|1.0");
  EXPECT_EQ(line("DELETE", "/api/python/acme-log/1.0/yank"), "unyank|python|acme-log|1.0");
  EXPECT_EQ(line("DELETE", "/api/python/acme-log/1.0"), "takedown.release|python|acme-log|1.0");
  EXPECT_EQ(line("DELETE", "/api/python/acme-log/1.0/a-1.0.tar.gz"),
            "takedown.file|python|acme-log|a-1.0.tar.gz");
  EXPECT_EQ(line("PUT", "/somewhere/else"), "request|||PUT /somewhere/else");
}

class AuditRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog::CatalogOptions options;
    options.sqlite_path = tmp_.path() / "catalog.db";
    auto catalog = catalog::MakeCatalog(options);
    ASSERT_TRUE(catalog) << catalog.error().ToString();
    catalog_ = std::move(*catalog);
    admin_ = Add("root", {"admin"});
    uploader_ = Add("ci", {"upload:*"});
    auto made = auth::Authenticator::Create(*catalog_, {}, [] { return kNow; });
    ASSERT_TRUE(made);
    authenticator_ = std::make_unique<auth::Authenticator>(std::move(*made));
    access_ = std::make_unique<Access>(*authenticator_);
    audit_ = std::make_unique<index::AuditLog>(*catalog_, [] { return kNow; });
    access_->SetAuditLog(audit_.get());
    RegisterTokenRoutes(router_, *catalog_, *access_, [] { return kNow; });
    RegisterAuditRoutes(router_, *catalog_, *access_);
  }

  std::string Add(const std::string& name, std::vector<std::string> scopes) {
    std::string secret = auth::NewTokenSecret();
    catalog::TokenRecord record;
    record.name = name;
    record.hash = auth::HashTokenSecret(secret);
    record.scopes = std::move(scopes);
    record.created_ms = kNow - 1000;
    EXPECT_TRUE(catalog_->AddToken(record).ok());
    return secret;
  }

  // Guard, then handler, as the server runs a route.
  http::Response Send(const std::string& method, const std::string& target,
                      const std::string& secret, const std::string& body = "") {
    http::Request request;
    request.method = method;
    request.target = target;
    std::size_t q = target.find('?');
    request.path = target.substr(0, q);
    request.query = q == std::string::npos ? "" : target.substr(q + 1);
    request.remote_address = "192.0.2.7";
    if (!secret.empty()) {
      request.headers.push_back({"Authorization", "Bearer " + secret});
    }
    request.body.memory = body;
    request.body.size = body.size();
    http::Router::Match match = router_.Find(method, request.path);
    EXPECT_NE(match.route, nullptr) << method << " " << request.path;
    if (match.route == nullptr) {
      http::Response none;
      none.status = 0;
      return none;
    }
    request.params = match.params;
    if (match.route->options.guard) {
      if (std::optional<http::Response> refused = match.route->options.guard(request)) {
        return std::move(*refused);
      }
    }
    return match.route->handler(request);
  }

  static boost::json::value Json(const http::Response& r) {
    const std::string* text = std::get_if<std::string>(&r.body);
    return boost::json::parse(text == nullptr ? "" : *text);
  }

  testing::TempDir tmp_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<Access> access_;
  std::unique_ptr<index::AuditLog> audit_;
  http::Router router_;
  std::string admin_;
  std::string uploader_;
};

TEST_F(AuditRoutesTest, OnlyAdminsMayRead) {
  EXPECT_EQ(Send("GET", "/api/audit", "").status, 401);
  EXPECT_EQ(Send("GET", "/api/audit", uploader_).status, 403);
  EXPECT_EQ(Send("GET", "/api/audit", admin_).status, 200);
  EXPECT_EQ(Send("GET", "/api/audit?limit=0", admin_).status, 400);
  // Reads are not changes: the refused GET left no record.
  EXPECT_TRUE(Json(Send("GET", "/api/audit", admin_)).at("records").as_array().empty());
}

TEST_F(AuditRoutesTest, TokenApiChangesAreRecordedWithoutTheirSecrets) {
  http::Response created =
      Send("POST", "/api/tokens", admin_, R"({"name": "deploy", "scopes": ["upload:acme-*"]})");
  ASSERT_EQ(created.status, 201);
  const std::string secret(Json(created).at("secret").as_string());
  ASSERT_EQ(Send("DELETE", "/api/tokens/deploy", admin_).status, 200);
  // A non-admin's attempt is refused by the guard and recorded as denied.
  ASSERT_EQ(Send("POST", "/api/tokens", uploader_, R"({"name": "x", "scopes": ["admin"]})").status,
            403);

  http::Response listed = Send("GET", "/api/audit", admin_);
  ASSERT_EQ(listed.status, 200);
  const std::string raw = std::get<std::string>(listed.body);
  for (const std::string& s : {secret, admin_, uploader_}) {
    EXPECT_EQ(raw.find(s), std::string::npos) << "a secret is in the audit log";
  }
  const boost::json::value body = Json(listed);
  const boost::json::array& records = body.at("records").as_array();
  ASSERT_EQ(records.size(), 3u);
  const boost::json::object& denied = records[0].as_object();
  EXPECT_EQ(denied.at("action"), "token.create");
  EXPECT_EQ(denied.at("token"), "ci");
  EXPECT_TRUE(denied.at("outcome").as_string().starts_with("denied: "));
  const boost::json::object& revoked = records[1].as_object();
  EXPECT_EQ(revoked.at("action"), "token.revoke");
  EXPECT_EQ(revoked.at("target"), "deploy");
  EXPECT_EQ(revoked.at("outcome"), "ok");
  const boost::json::object& create = records[2].as_object();
  EXPECT_EQ(create.at("action"), "token.create");
  EXPECT_EQ(create.at("token"), "root");
  EXPECT_EQ(create.at("address"), "192.0.2.7");
  EXPECT_EQ(create.at("target"), "deploy (upload:acme-*)");
  EXPECT_EQ(create.at("outcome"), "ok");
  EXPECT_EQ(create.at("time"), "2023-11-14T22:13:20.000Z");
}

TEST_F(AuditRoutesTest, PagesWithTheCursorAndFilters) {
  for (int i = 0; i < 5; ++i) {
    catalog::AuditRecord r;
    r.time_ms = kNow + i * 1000;
    r.token = i % 2 == 0 ? "even" : "odd";
    r.action = "publish";
    r.project = "p" + std::to_string(i);
    r.outcome = "ok";
    ASSERT_TRUE(catalog_->AppendAudit(r).ok());
  }
  std::vector<std::string> projects;
  std::string cursor;
  int pages = 0;
  for (;;) {
    http::Response r =
        Send("GET", "/api/audit?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), admin_);
    ASSERT_EQ(r.status, 200);
    boost::json::value body = Json(r);
    ++pages;
    for (const auto& record : body.at("records").as_array()) {
      projects.emplace_back(record.at("project").as_string());
    }
    if (body.at("next_cursor").is_null()) {
      break;
    }
    cursor = std::string(body.at("next_cursor").as_string());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(projects, (std::vector<std::string>{"p4", "p3", "p2", "p1", "p0"}));

  auto count = [&](const std::string& query) {
    http::Response r = Send("GET", "/api/audit?" + query, admin_);
    EXPECT_EQ(r.status, 200) << query;
    return Json(r).at("records").as_array().size();
  };
  EXPECT_EQ(count("token=even"), 3u);
  EXPECT_EQ(count("project=p3"), 1u);
  EXPECT_EQ(count("action=yank"), 0u);
  EXPECT_EQ(count("since=1700000003"), 2u);
  EXPECT_EQ(count("since=2023-11-14T22:13:24Z"), 1u);
}

}  // namespace
}  // namespace pipy::app
