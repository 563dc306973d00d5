// HTTPS: the server with a certificate made at test time (OpenSSL's API), driven by an
// OpenSSL client on blocking sockets (no Beast in this test).
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "http/server_test_util.h"

namespace pipy::http {
namespace {

using namespace testing_util;

// A self-signed certificate for 127.0.0.1 with the given serial, written as PEM.
void MakeCertificate(const fs::path& cert, const fs::path& key, long serial) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  ASSERT_NE(pkey, nullptr);
  X509* x = X509_new();
  ASSERT_NE(x, nullptr);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  ASSERT_GT(X509_sign(x, pkey, EVP_sha256()), 0);
  std::FILE* c = std::fopen(cert.c_str(), "wb");
  ASSERT_NE(c, nullptr);
  PEM_write_X509(c, x);
  std::fclose(c);
  std::FILE* k = std::fopen(key.c_str(), "wb");
  ASSERT_NE(k, nullptr);
  PEM_write_PrivateKey(k, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(k);
  X509_free(x);
  EVP_PKEY_free(pkey);
}

void WriteFile(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

struct TlsOptions {
  int min_version = TLS1_2_VERSION;
  int max_version = 0;  // 0 = the newest
  std::vector<unsigned char> alpn;
};

// A TLS client connection (no certificate verification: tests identify the server's
// certificate by its serial).
class TlsConn {
 public:
  explicit TlsConn(int port, TlsOptions options = {}) : raw_(port) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx_, options.min_version);
    SSL_CTX_set_max_proto_version(ctx_, options.max_version);
    if (options.max_version != 0 && options.max_version < TLS1_2_VERSION) {
      // OpenSSL 3 refuses TLS 1.1 itself above security level 0: let the client offer
      // it, so that the refusal measured is the server's.
      SSL_CTX_set_security_level(ctx_, 0);
      SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, raw_.fd());
    if (!options.alpn.empty()) {
      SSL_set_alpn_protos(ssl_, options.alpn.data(), static_cast<unsigned>(options.alpn.size()));
    }
    connected_ = SSL_connect(ssl_) == 1;
    if (!connected_) {
      ERR_clear_error();
    }
  }
  ~TlsConn() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }

  bool connected() const { return connected_; }
  int version() const { return SSL_version(ssl_); }

  // The serial of the server's certificate, -1 without one.
  long Serial() const {
    X509* peer = SSL_get1_peer_certificate(ssl_);
    if (peer == nullptr) {
      return -1;
    }
    long serial = ASN1_INTEGER_get(X509_get_serialNumber(peer));
    X509_free(peer);
    return serial;
  }

  std::string Alpn() const {
    const unsigned char* data = nullptr;
    unsigned length = 0;
    SSL_get0_alpn_selected(ssl_, &data, &length);
    return std::string(reinterpret_cast<const char*>(data), length);
  }

  void Send(std::string_view data) {
    ASSERT_EQ(SSL_write(ssl_, data.data(), static_cast<int>(data.size())),
              static_cast<int>(data.size()));
  }

  // Reads until the head and a Content-Length body are complete (or the connection ends:
  // then `closed_cleanly` tells whether the server sent close_notify).
  std::optional<Reply> Get(const std::string& path, const std::string& version = "HTTP/1.1") {
    Send("GET " + path + " " + version + "\r\nHost: x\r\n\r\n");
    return Read();
  }

  std::optional<Reply> Read() {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) {
        return std::nullopt;
      }
    }
    Reply r;
    std::string head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    r.status = std::stoi(head.substr(9, 3));
    std::size_t pos = head.find("\r\n") + 2;
    while (pos < head.size()) {
      std::size_t e = head.find("\r\n", pos);
      std::string line = head.substr(pos, e - pos);
      std::size_t colon = line.find(':');
      r.headers.push_back({line.substr(0, colon), line.substr(colon + 2)});
      pos = e + 2;
    }
    auto length = r.header("Content-Length");
    if (!length.has_value()) {
      while (Fill()) {  // the body ends with the connection
      }
      r.body = std::move(buf_);
      buf_.clear();
      return r;
    }
    std::size_t n = std::stoul(*length);
    while (buf_.size() < n) {
      if (!Fill()) {
        return std::nullopt;
      }
    }
    r.body = buf_.substr(0, n);
    buf_.erase(0, n);
    return r;
  }

  bool closed_cleanly() const { return closed_cleanly_; }

 private:
  bool Fill() {
    char tmp[65536];
    int n = SSL_read(ssl_, tmp, sizeof(tmp));
    if (n <= 0) {
      closed_cleanly_ = SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN;
      ERR_clear_error();
      return false;
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  Conn raw_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
  bool closed_cleanly_ = false;
  std::string buf_;
};

class TlsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    MakeCertificate(cert_, key_, 1001);
  }

  void StartTls(ServerOptions options = {}) {
    options.tls_cert = cert_;
    options.tls_key = key_;
    StartServer(std::move(options));
  }

  Result<int> TryStart(const fs::path& cert, const fs::path& key) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.spool_dir = dir_ / "spool";
    options.access_log = false;
    options.tls_cert = cert;
    options.tls_key = key;
    Server server(options, router_, metrics_);
    return server.Start();
  }

  const fs::path cert_ = dir_ / "cert.pem";
  const fs::path key_ = dir_ / "key.pem";
};

TEST_F(TlsTest, HttpsRoundTrip) {
  StartTls();
  TlsConn conn(port_);
  ASSERT_TRUE(conn.connected());
  EXPECT_GE(conn.version(), TLS1_2_VERSION);
  EXPECT_EQ(conn.Serial(), 1001);
  for (int i = 0; i < 3; ++i) {  // keep-alive
    auto reply = conn.Get("/hello/tls");
    ASSERT_TRUE(reply.has_value()) << i;
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "hello tls");
  }
  EXPECT_EQ(calls_.load(), 3);
}

TEST_F(TlsTest, RequestsKnowTheyCameOverTls) {
  router_.Add("GET", "/scheme", Opts("scheme"),
              [](Request& r) { return TextResponse(200, std::string(r.scheme())); });
  StartTls();
  TlsConn conn(port_);
  ASSERT_TRUE(conn.connected());
  auto reply = conn.Get("/scheme");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, "https");
}

TEST_F(TlsTest, Tls11IsRefused) {
  StartTls();
  TlsOptions old;
  old.min_version = TLS1_1_VERSION;
  old.max_version = TLS1_1_VERSION;
  TlsConn conn(port_, old);
  EXPECT_FALSE(conn.connected());
  // A client allowing 1.1 to 1.3 gets 1.2 at least.
  TlsOptions any;
  any.min_version = TLS1_1_VERSION;
  TlsConn modern(port_, any);
  ASSERT_TRUE(modern.connected());
  EXPECT_GE(modern.version(), TLS1_2_VERSION);
}

TEST_F(TlsTest, SelectsHttp11ByAlpn) {
  StartTls();
  TlsOptions alpn;
  alpn.alpn = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  TlsConn conn(port_, alpn);
  ASSERT_TRUE(conn.connected());
  EXPECT_EQ(conn.Alpn(), "http/1.1");
  TlsOptions h2_only;
  h2_only.alpn = {2, 'h', '2'};
  TlsConn h2(port_, h2_only);
  ASSERT_TRUE(h2.connected());  // served as HTTP/1.1 anyway
  EXPECT_EQ(h2.Alpn(), "");
  ASSERT_TRUE(h2.Get("/hello/x").has_value());
}

TEST_F(TlsTest, PlainHttpOnTheTlsPortGetsNoPage) {
  StartTls();
  Conn plain(port_);
  plain.Send("GET /hello/plain HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(plain.ClosedWithin(5s));
  EXPECT_EQ(calls_.load(), 0);
  EXPECT_NE(metrics_.Render().find("pipy_tls_handshake_failures_total 1"), std::string::npos)
      << metrics_.Render();
}

TEST_F(TlsTest, AClientThatNeverHandshakesIsDropped) {
  ServerOptions options;
  options.header_timeout = 300ms;
  StartTls(options);
  Conn silent(port_);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.ClosedWithin(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(TlsTest, FilesAndStreamsGoThroughTheCipher) {
  std::string data(3 * 1024 * 1024 + 123, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>((i * 7919) >> 3);
  }
  const fs::path file = dir_ / "big.bin";
  WriteFile(file, data);
  router_.Add("GET", "/file", Opts("file"), [&file](Request&) {
    Response r;
    r.status = 200;
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    r.body = FileBody{fd, 100, fs::file_size(file) - 100};
    return r;
  });
  // A small file (a spilled page) goes out in the head's record: same bytes.
  router_.Add("GET", "/small", Opts("small"), [&file](Request&) {
    Response r;
    r.status = 200;
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    r.body = FileBody{fd, 7, 5000};
    return r;
  });
  router_.Add("GET", "/stream", Opts("stream"), [&data](Request&) {
    auto sent = std::make_shared<std::size_t>(0);
    Response r;
    r.status = 200;
    r.body = StreamBody{[&data, sent](char* buf, std::size_t n) -> Result<std::size_t> {
                          std::size_t k = std::min(n, data.size() - *sent);
                          std::memcpy(buf, data.data() + *sent, k);
                          *sent += k;
                          return k;
                        },
                        std::nullopt};
    return r;
  });
  StartTls();
  TlsConn conn(port_);
  ASSERT_TRUE(conn.connected());
  auto file_reply = conn.Get("/file");
  ASSERT_TRUE(file_reply.has_value());
  EXPECT_TRUE(file_reply->body == data.substr(100)) << file_reply->body.size();
  auto small_reply = conn.Get("/small");
  ASSERT_TRUE(small_reply.has_value());
  EXPECT_TRUE(small_reply->body == data.substr(7, 5000)) << small_reply->body.size();
  // HTTP/1.0 and no length: the body ends with the connection, with close_notify, so the
  // client can tell it is complete.
  auto stream_reply = conn.Get("/stream", "HTTP/1.0");
  ASSERT_TRUE(stream_reply.has_value());
  EXPECT_TRUE(stream_reply->body == data) << stream_reply->body.size();
  EXPECT_TRUE(conn.closed_cleanly());
}

TEST_F(TlsTest, ReloadServesNewConnectionsWhileOpenOnesGoOn) {
  StartTls();
  TlsConn before(port_);
  ASSERT_TRUE(before.connected());
  ASSERT_TRUE(before.Get("/hello/a").has_value());
  EXPECT_EQ(before.Serial(), 1001);

  MakeCertificate(cert_, key_, 2002);
  ASSERT_TRUE(server_->ReloadTls().ok());
  TlsConn after(port_);
  ASSERT_TRUE(after.connected());
  EXPECT_EQ(after.Serial(), 2002);
  ASSERT_TRUE(after.Get("/hello/b").has_value());
  auto still = before.Get("/hello/c");  // the open keep-alive connection goes on
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->body, "hello c");

  // A bad file on reload keeps the pair in use, and the error names the file.
  WriteFile(key_, "not a key\n");
  Status bad = server_->ReloadTls();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find(key_.string()), std::string::npos) << bad.message();
  EXPECT_EQ(bad.message().find("not a key"), std::string::npos) << bad.message();
  TlsConn kept(port_);
  ASSERT_TRUE(kept.connected());
  EXPECT_EQ(kept.Serial(), 2002);
  ASSERT_TRUE(kept.Get("/hello/d").has_value());
}

TEST_F(TlsTest, BadFilesStopStartWithTheFileNamed) {
  const fs::path missing = dir_ / "missing.pem";
  const fs::path garbage = dir_ / "garbage.pem";
  WriteFile(garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  const fs::path other_cert = dir_ / "other_cert.pem";
  const fs::path other_key = dir_ / "other_key.pem";
  MakeCertificate(other_cert, other_key, 3003);

  struct Case {
    fs::path cert, key, named;
  };
  for (const Case& c : {Case{missing, key_, missing}, Case{cert_, missing, missing},
                        Case{garbage, key_, garbage}, Case{cert_, garbage, garbage},
                        Case{key_, key_, key_},  // a key where the certificate belongs
                        Case{cert_, other_key, other_key}}) {
    Result<int> started = TryStart(c.cert, c.key);
    ASSERT_FALSE(started.has_value()) << c.cert << " " << c.key;
    EXPECT_NE(started.error().message().find(c.named.string()), std::string::npos)
        << started.error().message();
    EXPECT_EQ(started.error().message().find("BEGIN"), std::string::npos)
        << started.error().message();
  }
  EXPECT_FALSE(TryStart(cert_, "").has_value());  // a certificate without a key
  EXPECT_FALSE(CheckTlsFiles(missing, key_).ok());
  EXPECT_TRUE(CheckTlsFiles(cert_, key_).ok());
}

TEST_F(TlsTest, PlainHttpIsUnchangedWithoutACertificate) {
  StartServer();
  Conn plain(port_);
  auto reply = plain.Get("/hello/plain");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, "hello plain");
  EXPECT_FALSE(server_->tls());
  EXPECT_FALSE(server_->ReloadTls().ok());
}

}  // namespace
}  // namespace pipy::http
