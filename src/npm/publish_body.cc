#include "npm/publish_body.h"

#include <cmath>
#include <optional>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>

#include "core/base64.h"

namespace pipy::npm {
namespace {

namespace json = boost::json;

// A SAX handler that builds the document (json::value frames on a stack) and diverts the
// string at _attachments.<name>.data through a base64 decoder into the sink. A failure is
// kept in `error` and stops the parser (every callback returns false after it).
// What one parsed value costs in memory at least (a json::value node and its slot).
constexpr std::size_t kValueCost = 32;

class BodyHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  BodyHandler(const AttachmentSink& sink, const BodyLimits& limits)
      : sink_(sink), limits_(limits) {}

  Status error;
  PublishBody body;
  std::optional<json::value> root;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    if (!NotData()) {
      return false;
    }
    std::optional<std::string> key = TakeKey();
    stack_.push_back(Frame{json::object(), std::move(key)});
    return Count(kValueCost);
  }
  bool on_object_end(std::size_t, json::error_code&) { return EndContainer(); }
  bool on_array_begin(json::error_code&) {
    if (!NotData()) {
      return false;
    }
    std::optional<std::string> key = TakeKey();
    stack_.push_back(Frame{json::array(), std::move(key)});
    return Count(kValueCost);
  }
  bool on_array_end(std::size_t, json::error_code&) { return EndContainer(); }

  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return Count(s.size());
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    has_key_ = true;
    return Count(s.size());
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    if (InAttachmentData()) {
      return Decode(s);
    }
    string_.append(s.data(), s.size());
    return Count(s.size());
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    if (InAttachmentData()) {
      if (!Decode(s)) {
        return false;
      }
      std::string out;
      if (!decoder_.Finish(out)) {
        return Fail(InvalidArgument("the attachment's data is not valid base64"));
      }
      decoder_ = Base64Decoder();
      in_data_ = false;
      has_key_ = false;
      key_.clear();
      return Emit(out);  // the data field itself is left out of the document
    }
    string_.append(s.data(), s.size());
    std::string value = std::move(string_);
    string_.clear();
    return Count(kValueCost + s.size()) && Add(json::value(std::move(value)));
  }

  bool on_number_part(json::string_view, json::error_code&) { return true; }
  // Every value counts against the document's limit, at least the memory of its node: a
  // body of a million zeros must not cost a million json::values.
  bool on_int64(std::int64_t v, json::string_view text, json::error_code&) {
    return NotData() && Count(kValueCost + text.size()) && Add(json::value(v));
  }
  bool on_uint64(std::uint64_t v, json::string_view text, json::error_code&) {
    return NotData() && Count(kValueCost + text.size()) && Add(json::value(v));
  }
  bool on_double(double v, json::string_view text, json::error_code&) {
    if (!std::isfinite(v)) {  // see json_numbers.h
      return Fail(InvalidArgument("the body has a number out of a double's range"));
    }
    return NotData() && Count(kValueCost + text.size()) && Add(json::value(v));
  }
  bool on_bool(bool v, json::error_code&) {
    return NotData() && Count(kValueCost) && Add(json::value(v));
  }
  bool on_null(json::error_code&) {
    return NotData() && Count(kValueCost) && Add(json::value(nullptr));
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  struct Frame {
    json::value value;               // an object or an array
    std::optional<std::string> key;  // its key in the parent object
  };

  bool Fail(Status status) {
    if (error.ok()) {
      error = std::move(status);
    }
    return false;
  }

  // Counts document bytes (keys, strings, one per container) against the limit.
  bool Count(std::size_t n) {
    document_bytes_ += n;
    if (document_bytes_ > limits_.max_document_bytes) {
      return Fail(TooLarge("the publish document (without its tarball) is larger than " +
                           std::to_string(limits_.max_document_bytes) + " bytes"));
    }
    return true;
  }

  std::optional<std::string> TakeKey() {
    if (!has_key_) {
      return std::nullopt;
    }
    has_key_ = false;
    std::string key = std::move(key_);
    key_.clear();
    return key;
  }

  // The value being parsed is _attachments.<name>.data: the stack is root, _attachments,
  // <name>, and the pending key is "data".
  bool InAttachmentData() const {
    return has_key_ && key_ == "data" && stack_.size() == 3 && stack_[1].key &&
           *stack_[1].key == "_attachments" && stack_[1].value.is_object() &&
           stack_[2].value.is_object();
  }

  // A non-string value where an attachment's data must be.
  bool NotData() {
    if (InAttachmentData()) {
      return Fail(InvalidArgument("an attachment's data must be a base64 string"));
    }
    return true;
  }

  bool Decode(json::string_view s) {
    if (!in_data_) {
      in_data_ = true;
      if (++attachments_seen_ > 1) {
        return Fail(InvalidArgument("a publish carries exactly one attachment (the tarball)"));
      }
    }
    std::string out;
    if (!decoder_.Feed(std::string_view(s.data(), s.size()), out)) {
      return Fail(InvalidArgument("the attachment's data is not valid base64"));
    }
    return Emit(out);
  }

  bool Emit(std::string_view bytes) {
    body.attachment_bytes += bytes.size();
    if (body.attachment_bytes > limits_.max_attachment_bytes) {
      return Fail(TooLarge("the tarball is larger than the limit of " +
                           std::to_string(limits_.max_attachment_bytes) + " bytes"));
    }
    if (bytes.empty()) {
      return true;
    }
    Status written = sink_(bytes);
    return written.ok() || Fail(std::move(written));
  }

  bool EndContainer() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (stack_.size() == 1 && frame.key && *frame.key == "_attachments" &&
        frame.value.is_object()) {
      for (const auto& entry : frame.value.as_object()) {
        body.attachments.emplace_back(entry.key());
      }
      if (body.attachments.size() > 1) {
        return Fail(InvalidArgument("a publish carries exactly one attachment (the tarball)"));
      }
    }
    return Place(std::move(frame.value), std::move(frame.key));
  }

  bool Add(json::value v) { return Place(std::move(v), TakeKey()); }

  bool Place(json::value v, std::optional<std::string> key) {
    if (stack_.empty()) {
      root = std::move(v);
      return true;
    }
    json::value& parent = stack_.back().value;
    if (parent.is_object()) {
      // A repeated key would let two readers of one body see two documents (the last
      // _attachments wins here, another parser may keep the first): refused.
      const std::string k = key.value_or("");
      if (parent.as_object().contains(k)) {
        return Fail(InvalidArgument("the body repeats the key '" + k.substr(0, 100) + "'"));
      }
      parent.as_object()[k] = std::move(v);
    } else {
      parent.as_array().push_back(std::move(v));
    }
    return true;
  }

  const AttachmentSink& sink_;
  const BodyLimits& limits_;
  std::vector<Frame> stack_;
  std::string key_;
  bool has_key_ = false;
  std::string string_;
  Base64Decoder decoder_;
  bool in_data_ = false;
  int attachments_seen_ = 0;
  std::uint64_t document_bytes_ = 0;
};

}  // namespace

Result<PublishBody> ParsePublishBody(const ChunkReader& read, const AttachmentSink& sink,
                                     const BodyLimits& limits) {
  json::parse_options options;
  options.max_depth = 64;
  json::basic_parser<BodyHandler> parser(options, sink, limits);
  auto only_whitespace = [](std::string_view rest) {
    return rest.find_first_not_of(" \t\r\n") == std::string_view::npos;
  };
  char buf[64 * 1024];
  bool done = false;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(std::size_t n, read(buf, sizeof buf));
    std::size_t used = 0;
    if (!done) {
      json::error_code ec;
      used = parser.write_some(n > 0, buf, n, ec);
      if (!parser.handler().error.ok()) {
        return parser.handler().error;
      }
      if (ec) {
        return InvalidArgument("the body is not valid JSON: " + ec.message());
      }
      done = parser.done();
    }
    if (done && !only_whitespace(std::string_view(buf + used, n - used))) {
      return InvalidArgument("the body is not valid JSON: data after the document");
    }
    if (n == 0) {
      break;
    }
  }
  if (!done) {
    return InvalidArgument("the body is not valid JSON: it ends early");
  }
  BodyHandler& handler = parser.handler();
  if (!handler.root || !handler.root->is_object()) {
    return InvalidArgument("the body must be a JSON object");
  }
  handler.body.document = std::move(handler.root->as_object());
  return std::move(handler.body);
}

}  // namespace pipy::npm
