#include "python/multipart.h"

#include <utility>

#include "core/strings.h"

namespace pipy::python {
namespace {

// Bookkeeping cost charged per collected field on top of its bytes, so a flood of tiny
// parts is bounded by the same cap as a few big ones.
constexpr std::uint64_t kFieldOverhead = 64;
// RFC 2046 allows whitespace ("transport padding") after a boundary; be generous but bounded.
constexpr std::size_t kMaxPadding = 256;

// A parameter value: a token, or a quoted string with backslash escapes removed.
std::string Unquote(std::string_view v) {
  v = TrimSpacesAndTabs(v);
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') {
    return std::string(v);
  }
  v = v.substr(1, v.size() - 2);
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      ++i;
    }
    out += v[i];
  }
  return out;
}

bool IsBoundaryChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

struct PartHeader {
  std::string name;
  std::string filename;
  bool has_filename = false;
};

Result<PartHeader> ParsePartHeader(std::string_view block) {
  std::optional<std::string> disposition;
  std::size_t start = 0;
  while (start <= block.size()) {
    std::size_t end = block.find("\r\n", start);
    if (end == std::string_view::npos) {
      end = block.size();
    }
    std::string_view line = block.substr(start, end - start);
    start = end + 2;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument("multipart part has a malformed header line");
    }
    if (EqualsIgnoreCase(TrimSpacesAndTabs(line.substr(0, colon)), "content-disposition")) {
      disposition = std::string(TrimSpacesAndTabs(line.substr(colon + 1)));
    }
  }
  if (!disposition.has_value()) {
    return InvalidArgument("multipart part without Content-Disposition");
  }
  std::vector<std::string_view> params = SplitOutsideQuotes(*disposition, ';');
  if (!EqualsIgnoreCase(TrimSpacesAndTabs(params[0]), "form-data")) {
    return InvalidArgument("multipart part has Content-Disposition \"" +
                           std::string(TrimSpacesAndTabs(params[0])) + "\", expected form-data");
  }
  PartHeader header;
  bool has_name = false;
  for (std::size_t i = 1; i < params.size(); ++i) {
    std::string_view param = params[i];
    std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    std::string_view key = TrimSpacesAndTabs(param.substr(0, eq));
    if (EqualsIgnoreCase(key, "name")) {
      header.name = Unquote(param.substr(eq + 1));
      has_name = true;
    } else if (EqualsIgnoreCase(key, "filename")) {
      header.filename = Unquote(param.substr(eq + 1));
      header.has_filename = true;
    }
  }
  if (!has_name || header.name.empty()) {
    return InvalidArgument("multipart part has no name in its Content-Disposition");
  }
  return header;
}

class Parser {
 public:
  Parser(std::string_view boundary, const FileSink& sink, std::string_view file_field,
         const MultipartLimits& limits)
      : delimiter_("\r\n--" + std::string(boundary)),
        sink_(sink),
        file_field_(file_field),
        limits_(limits) {
    // The first boundary line may open the body; a virtual CRLF in front of the body
    // lets one delimiter pattern match it too (RFC 2046: the CRLF belongs to the delimiter).
    buffer_ = "\r\n";
  }

  void Append(const char* data, std::size_t n) { buffer_.append(data, n); }
  bool done() const { return state_ == State::kDone; }

  // Consumes as much of the buffer as can be decided on now.
  Status Process() {
    Status status = Step();
    buffer_.erase(0, pos_);
    pos_ = 0;
    return status;
  }

  // The error for a body that ended before the final boundary.
  Status EndOfBodyError() const {
    std::string_view rest(buffer_.data() + pos_, buffer_.size() - pos_);
    if (state_ == State::kPreamble) {
      return InvalidArgument("multipart body has no boundary line \"--" +
                             delimiter_.substr(4) + "\"; is the boundary in Content-Type right?");
    }
    if ((state_ == State::kHeaders || state_ == State::kAfterDelimiter) && rest.empty()) {
      return InvalidArgument("multipart body is missing its final boundary \"--" +
                             delimiter_.substr(4) + "--\"");
    }
    return InvalidArgument("multipart body is truncated: it ends inside a part");
  }

  MultipartForm TakeForm() { return std::move(form_); }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kDone };

  std::string_view Available() const {
    return std::string_view(buffer_.data() + pos_, buffer_.size() - pos_);
  }

  Status Step() {
    while (true) {
      std::string_view avail = Available();
      switch (state_) {
        case State::kPreamble: {
          std::size_t at = avail.find(delimiter_);
          if (at == std::string_view::npos) {
            DiscardAllButTail(avail);
            return Status::Ok();
          }
          pos_ += at + delimiter_.size();
          state_ = State::kAfterDelimiter;
          break;
        }
        case State::kAfterDelimiter: {
          std::size_t i = 0;
          while (i < avail.size() && (avail[i] == ' ' || avail[i] == '\t')) {
            ++i;
          }
          if (i > kMaxPadding) {
            return InvalidArgument("multipart boundary line is malformed");
          }
          if (avail.size() < i + 2) {
            return Status::Ok();
          }
          std::string_view next = avail.substr(i, 2);
          if (next == "--") {
            PIPY_RETURN_IF_ERROR(FinishPart());
            state_ = State::kDone;
            return Status::Ok();
          }
          if (next != "\r\n") {
            return InvalidArgument("multipart boundary line is malformed");
          }
          PIPY_RETURN_IF_ERROR(FinishPart());
          pos_ += i + 2;
          state_ = State::kHeaders;
          break;
        }
        case State::kHeaders: {
          if (avail.size() < 2) {
            return Status::Ok();
          }
          if (avail.substr(0, 2) == "\r\n") {
            return InvalidArgument("multipart part without Content-Disposition");
          }
          std::size_t end = avail.find("\r\n\r\n");
          if (end == std::string_view::npos || end > limits_.max_part_header_bytes) {
            // Too long only once a block at the cap would have shown its whole CRLFCRLF:
            // before that, the answer would depend on how the body was chunked.
            if (avail.size() >= limits_.max_part_header_bytes + 4) {
              return Status(StatusCode::kTooLarge, "multipart part headers are too long");
            }
            return Status::Ok();
          }
          PIPY_RETURN_IF_ERROR(StartPart(avail.substr(0, end)));
          pos_ += end + 4;
          state_ = State::kBody;
          break;
        }
        case State::kBody: {
          std::size_t at = avail.find(delimiter_);
          if (at == std::string_view::npos) {
            std::size_t keep = delimiter_.size() - 1;  // a delimiter may start in the tail
            if (avail.size() > keep) {
              PIPY_RETURN_IF_ERROR(Emit(avail.substr(0, avail.size() - keep)));
              pos_ += avail.size() - keep;
            }
            return Status::Ok();
          }
          PIPY_RETURN_IF_ERROR(Emit(avail.substr(0, at)));
          pos_ += at + delimiter_.size();
          state_ = State::kAfterDelimiter;
          break;
        }
        case State::kDone:
          return Status::Ok();
      }
    }
  }

  void DiscardAllButTail(std::string_view avail) {
    std::size_t keep = delimiter_.size() - 1;
    if (avail.size() > keep) {
      pos_ += avail.size() - keep;
    }
  }

  Status StartPart(std::string_view header_block) {
    PIPY_ASSIGN_OR_RETURN(PartHeader header, ParsePartHeader(header_block));
    in_part_ = true;
    to_sink_ = header.name == file_field_;
    if (to_sink_) {
      if (form_.has_file) {
        return InvalidArgument("multipart body has two \"" + std::string(file_field_) +
                               "\" parts");
      }
      form_.has_file = true;
      form_.file_name = std::move(header.filename);
      return Status::Ok();
    }
    PIPY_RETURN_IF_ERROR(Charge(header.name.size() + kFieldOverhead));
    field_name_ = std::move(header.name);
    field_value_.clear();
    return Status::Ok();
  }

  Status Emit(std::string_view data) {
    if (data.empty()) {
      return Status::Ok();
    }
    if (to_sink_) {
      form_.file_size += data.size();
      return sink_(data);
    }
    PIPY_RETURN_IF_ERROR(Charge(data.size()));
    field_value_.append(data);
    return Status::Ok();
  }

  Status FinishPart() {
    if (!in_part_) {
      return Status::Ok();
    }
    in_part_ = false;
    if (!to_sink_) {
      form_.fields[std::move(field_name_)].push_back(std::move(field_value_));
      field_name_.clear();
      field_value_.clear();
    }
    return Status::Ok();
  }

  Status Charge(std::uint64_t bytes) {
    fields_bytes_ += bytes;
    if (fields_bytes_ > limits_.max_fields_bytes) {
      return Status(StatusCode::kTooLarge, "form fields exceed " +
                                               std::to_string(limits_.max_fields_bytes) +
                                               " bytes");
    }
    return Status::Ok();
  }

  const std::string delimiter_;
  const FileSink& sink_;
  const std::string_view file_field_;
  const MultipartLimits& limits_;
  State state_ = State::kPreamble;
  std::string buffer_;
  std::size_t pos_ = 0;
  bool in_part_ = false;
  bool to_sink_ = false;
  std::string field_name_;
  std::string field_value_;
  std::uint64_t fields_bytes_ = 0;
  MultipartForm form_;
};

}  // namespace

std::optional<std::string_view> MultipartForm::Get(std::string_view name) const {
  auto it = fields.find(std::string(name));
  if (it == fields.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second.front();
}

Result<std::string> BoundaryFromContentType(std::string_view content_type) {
  std::vector<std::string_view> params = SplitOutsideQuotes(content_type, ';');
  if (!EqualsIgnoreCase(TrimSpacesAndTabs(params[0]), "multipart/form-data")) {
    return InvalidArgument("expected Content-Type multipart/form-data, got \"" +
                           std::string(TrimSpacesAndTabs(params[0])) + "\"");
  }
  for (std::size_t i = 1; i < params.size(); ++i) {
    std::size_t eq = params[i].find('=');
    if (eq == std::string_view::npos || !EqualsIgnoreCase(TrimSpacesAndTabs(params[i].substr(0, eq)), "boundary")) {
      continue;
    }
    std::string boundary = Unquote(params[i].substr(eq + 1));
    if (boundary.empty() || boundary.size() > 70 || boundary.back() == ' ') {
      return InvalidArgument("multipart boundary is invalid (1-70 characters, no trailing space)");
    }
    for (char c : boundary) {
      if (!IsBoundaryChar(c)) {
        return InvalidArgument("multipart boundary contains an invalid character");
      }
    }
    return boundary;
  }
  return InvalidArgument("multipart/form-data Content-Type has no boundary parameter");
}

Result<MultipartForm> ParseMultipart(std::string_view boundary, const ChunkReader& read,
                                     const FileSink& sink, std::string_view file_field,
                                     const MultipartLimits& limits) {
  if (boundary.empty()) {
    return InvalidArgument("multipart boundary is empty");
  }
  Parser parser(boundary, sink, file_field, limits);
  std::string chunk(limits.chunk_bytes == 0 ? 1 : limits.chunk_bytes, '\0');
  while (!parser.done()) {
    PIPY_ASSIGN_OR_RETURN(std::size_t n, read(chunk.data(), chunk.size()));
    if (n == 0) {
      return parser.EndOfBodyError();
    }
    parser.Append(chunk.data(), n);
    PIPY_RETURN_IF_ERROR(parser.Process());
  }
  return parser.TakeForm();
}

}  // namespace pipy::python
