#include "storage/s3_xml.h"

#include <gtest/gtest.h>

namespace pipy::storage::xml {
namespace {

// A ListObjectsV2 answer as S3 writes it: a namespaced root, a declaration, entities.
constexpr std::string_view kListing = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>pipy-test</Name><Prefix>p/blobs/</Prefix><KeyCount>2</KeyCount>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1/a+b==&amp;c</NextContinuationToken>
  <Contents><Key>p/blobs/aa</Key><LastModified>2024-05-01T12:00:00.000Z</LastModified>
    <Size>11</Size></Contents>
  <!-- <Contents><Key>commented out</Key></Contents> -->
  <Contents><Key>p/blobs/a &lt;b&gt; &#233;&#x20AC;</Key><Size>0</Size></Contents>
</ListBucketResult>)";

TEST(S3XmlTest, FindsEveryElementInOrder) {
  std::vector<std::string_view> contents = Elements(kListing, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(Text(contents[0], "Key"), "p/blobs/aa");
  EXPECT_EQ(Text(contents[0], "Size"), "11");
  EXPECT_EQ(Text(contents[1], "Key"), "p/blobs/a <b> \xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(Text(kListing, "NextContinuationToken"), "1/a+b==&c");
  EXPECT_EQ(Text(kListing, "IsTruncated"), "true");
}

TEST(S3XmlTest, MissingAndSimilarNamesAreNotConfused) {
  EXPECT_EQ(Text(kListing, "Missing"), std::nullopt);
  EXPECT_EQ(Text(kListing, "Key"), "p/blobs/aa");        // not KeyCount
  EXPECT_EQ(Text(kListing, "KeyCount"), "2");
}

TEST(S3XmlTest, ErrorDocumentAndCdata) {
  std::string_view doc =
      "<Error><Code>SignatureDoesNotMatch</Code><Message><![CDATA[a <raw> & text]]></Message>"
      "</Error>";
  EXPECT_EQ(Text(doc, "Code"), "SignatureDoesNotMatch");
  EXPECT_EQ(Text(doc, "Message"), "a <raw> & text");
}

TEST(S3XmlTest, SelfClosingAttributesAndNesting) {
  std::string_view doc = "<a x='1>2'><b/><b attr=\"q\">one<b>inner</b></b></a>";
  std::vector<std::string_view> bs = Elements(doc, "b");
  ASSERT_EQ(bs.size(), 2u);
  EXPECT_EQ(bs[0], "");
  EXPECT_EQ(bs[1], "one<b>inner</b>");
  EXPECT_EQ(Text(doc, "a"), "<b/><b attr=\"q\">one<b>inner</b></b>");
}

TEST(S3XmlTest, MalformedInputGivesNothingAndNeverOverreads) {
  EXPECT_TRUE(Elements("<Key>unterminated", "Key").empty());
  EXPECT_TRUE(Elements("<Key", "Key").empty());
  EXPECT_TRUE(Elements("<!-- never closed <Key>x</Key>", "Key").empty());
  EXPECT_EQ(Decode("&bogus; &#xD800; &#0; & &amp"), "&bogus; &#xD800; &#0; & &amp");
}

TEST(S3XmlTest, EscapeRoundTrips) {
  std::string text = "\"etag\" <&> 'x'";
  EXPECT_EQ(Escape(text), "&quot;etag&quot; &lt;&amp;&gt; &#39;x&#39;");
  EXPECT_EQ(Decode(Escape(text)), text);
}

}  // namespace
}  // namespace pipy::storage::xml
