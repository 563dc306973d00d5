#include "http/message.h"

#include <unistd.h>

#include "core/strings.h"

namespace pipy::http {

namespace {

std::optional<std::string_view> FindHeader(const std::vector<Header>& headers,
                                           std::string_view name) {
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) {
      return std::string_view(h.value);
    }
  }
  return std::nullopt;
}

void CloseFileBody(std::variant<std::string, std::shared_ptr<const std::string>, FileBody,
                                StreamBody>& body) {
  if (auto* file = std::get_if<FileBody>(&body); file != nullptr && file->fd >= 0) {
    if (file->owner == nullptr) {
      ::close(file->fd);
    }
    file->fd = -1;
    file->owner.reset();
  }
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return pipy::EqualsIgnoreCase(a, b);
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  return FindHeader(headers, name);
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

Response::Response(Response&& other) noexcept
    : status(other.status),
      reason(std::move(other.reason)),
      headers(std::move(other.headers)),
      body(std::move(other.body)),
      continue_blocking(std::move(other.continue_blocking)) {
  // A moved-from FileBody must not close the fd the new owner holds.
  if (auto* file = std::get_if<FileBody>(&other.body)) {
    file->fd = -1;
  }
}

Response& Response::operator=(Response&& other) noexcept {
  if (this == &other) {
    return *this;
  }
  CloseFileBody(body);
  status = other.status;
  reason = std::move(other.reason);
  headers = std::move(other.headers);
  body = std::move(other.body);
  continue_blocking = std::move(other.continue_blocking);
  if (auto* file = std::get_if<FileBody>(&other.body)) {
    file->fd = -1;
  }
  return *this;
}

Response::~Response() { CloseFileBody(body); }

Response& Response::SetHeader(std::string name, std::string value) {
  for (Header& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) {
      h.value = std::move(value);
      return *this;
    }
  }
  headers.push_back(Header{std::move(name), std::move(value)});
  return *this;
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  return FindHeader(headers, name);
}

Response TextResponse(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.push_back(Header{"Content-Type", std::move(content_type)});
  r.body = std::move(body);
  return r;
}

}  // namespace pipy::http
