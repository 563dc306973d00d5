#include "python/accept.h"

#include <gtest/gtest.h>

namespace pipy::python {
namespace {

SimpleFormat Pick(std::string_view accept) {
  Result<SimpleFormat> r = NegotiateSimpleFormat(accept);
  EXPECT_TRUE(r.has_value()) << accept;
  return r.has_value() ? *r : SimpleFormat::kHtml;
}

bool Refused(std::string_view accept) {
  Result<SimpleFormat> r = NegotiateSimpleFormat(accept);
  return !r.has_value() && r.error().code() == StatusCode::kNotAcceptable;
}

TEST(AcceptTest, PipHeaderGetsJson) {
  EXPECT_EQ(Pick("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; "
                 "q=0.1, text/html; q=0.01"),
            SimpleFormat::kJsonV1);
}

TEST(AcceptTest, BrowserHeaderGetsHtml) {
  EXPECT_EQ(Pick("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                 "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"),
            SimpleFormat::kHtml);
  EXPECT_EQ(Pick("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            SimpleFormat::kHtml);
}

TEST(AcceptTest, NoHeaderOrAnythingGetsHtml) {
  EXPECT_EQ(NegotiateSimpleFormat(std::nullopt).value(), SimpleFormat::kHtml);
  EXPECT_EQ(Pick("*/*"), SimpleFormat::kHtml);
  EXPECT_EQ(Pick(""), SimpleFormat::kHtml);
  EXPECT_EQ(Pick("text/*"), SimpleFormat::kHtml);
}

TEST(AcceptTest, ApplicationWildcardPrefersJson) {
  EXPECT_EQ(Pick("application/*"), SimpleFormat::kJsonV1);
}

TEST(AcceptTest, EachTypeAlone) {
  EXPECT_EQ(Pick("application/vnd.pypi.simple.v1+json"), SimpleFormat::kJsonV1);
  EXPECT_EQ(Pick("application/vnd.pypi.simple.v1+html"), SimpleFormat::kHtmlV1);
  EXPECT_EQ(Pick("text/html"), SimpleFormat::kHtml);
}

TEST(AcceptTest, LatestAliasesServeV1) {
  EXPECT_EQ(Pick("application/vnd.pypi.simple.latest+json"), SimpleFormat::kJsonV1);
  EXPECT_EQ(Pick("application/vnd.pypi.simple.latest+html"), SimpleFormat::kHtmlV1);
  EXPECT_EQ(ContentTypeFor(SimpleFormat::kJsonV1), "application/vnd.pypi.simple.v1+json");
}

TEST(AcceptTest, HighestQWins) {
  EXPECT_EQ(Pick("application/vnd.pypi.simple.v1+json;q=0.2, text/html;q=0.9"),
            SimpleFormat::kHtml);
  EXPECT_EQ(Pick("text/html;q=0.5, application/vnd.pypi.simple.v1+html;q=0.6"),
            SimpleFormat::kHtmlV1);
  EXPECT_EQ(Pick("text/html;q=0.501, application/vnd.pypi.simple.v1+json;q=0.5"),
            SimpleFormat::kHtml);
}

TEST(AcceptTest, TiesPreferJsonThenV1HtmlThenHtml) {
  EXPECT_EQ(Pick("text/html, application/vnd.pypi.simple.v1+html, "
                 "application/vnd.pypi.simple.v1+json"),
            SimpleFormat::kJsonV1);
  EXPECT_EQ(Pick("text/html;q=0.5, application/vnd.pypi.simple.v1+html;q=0.5"),
            SimpleFormat::kHtmlV1);
  // An explicit type beats a wildcard at the same q.
  EXPECT_EQ(Pick("*/*, text/html"), SimpleFormat::kHtml);
  EXPECT_EQ(Pick("*/*, application/vnd.pypi.simple.v1+html"), SimpleFormat::kHtmlV1);
}

TEST(AcceptTest, QZeroExcludes) {
  EXPECT_TRUE(Refused("application/vnd.pypi.simple.v1+json;q=0"));
  EXPECT_EQ(Pick("*/*, text/html;q=0"), SimpleFormat::kJsonV1);
  EXPECT_EQ(Pick("text/html;q=0, application/vnd.pypi.simple.v1+html;q=0.1"),
            SimpleFormat::kHtmlV1);
  // The most specific range decides, even when a wildcard is higher.
  EXPECT_TRUE(Refused("text/*, text/html;q=0"));
}

TEST(AcceptTest, CaseAndWhitespaceInsensitive) {
  EXPECT_EQ(Pick("  Application/VND.PyPI.Simple.V1+JSON ; Q=1.0 "), SimpleFormat::kJsonV1);
  EXPECT_EQ(Pick("TEXT/HTML;q=0.3,application/vnd.pypi.simple.v1+json;q=0.2"),
            SimpleFormat::kHtml);
  EXPECT_EQ(Pick("text/html\t;\tq=0.9"), SimpleFormat::kHtml);
}

TEST(AcceptTest, ParametersOtherThanQAreIgnored) {
  EXPECT_EQ(Pick("text/html; charset=\"utf-8, x\"; q=0.4, application/vnd.pypi.simple.v1+json;"
                 " q=0.3"),
            SimpleFormat::kHtml);
}

TEST(AcceptTest, UnsupportedOnlyIsNotAcceptable) {
  EXPECT_TRUE(Refused("application/json"));
  EXPECT_TRUE(Refused("application/json, image/png;q=0.5"));
  EXPECT_TRUE(Refused("application/vnd.pypi.simple.v2+json"));
  EXPECT_TRUE(Refused("image/*"));
}

TEST(AcceptTest, MalformedRangesAreSkipped) {
  EXPECT_EQ(Pick("garbage, text/html;q=0.2"), SimpleFormat::kHtml);
  // A range with an invalid q is ignored rather than trusted.
  EXPECT_EQ(Pick("application/vnd.pypi.simple.v1+json;q=2, text/html;q=0.1"),
            SimpleFormat::kHtml);
  EXPECT_EQ(Pick("application/vnd.pypi.simple.v1+json;q=abc, text/html;q=0.1"),
            SimpleFormat::kHtml);
  // Nothing parseable at all is treated like no header.
  EXPECT_EQ(Pick("garbage"), SimpleFormat::kHtml);
}

}  // namespace
}  // namespace pipy::python
