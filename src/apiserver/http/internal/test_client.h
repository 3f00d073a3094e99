#pragma once
// A deliberately small blocking HTTP/1.1 client over POSIX sockets and OpenSSL, for this
// folder's tests only. It gives the tests byte-level control (read one chunk at a time, pipeline,
// drop the connection mid-stream) without compiling Beast into the test binary.
//
// Thread-safety: one thread per client.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace berth::apiserver::http::testing {

struct TlsOptions {
  std::string caFile;         // verify the server against this CA (and host "localhost")
  std::string clientCertPem;  // optional client certificate
  std::string clientKeyPem;
  bool offerH2 = true;  // ALPN "h2,http/1.1", as kubectl does
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class TestClient {
 public:
  TestClient() = default;
  ~TestClient() { close(); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // Connects to 127.0.0.1:port; with `tls`, performs the handshake. Returns an error text or "".
  std::string connect(uint16_t port, const TlsOptions* tls = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return "connect";
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (tls == nullptr) return "";
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!tls->caFile.empty()) {
      SSL_CTX_load_verify_locations(ctx_, tls->caFile.c_str(), nullptr);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    if (!tls->clientCertPem.empty()) {
      BIO* certBio =
          BIO_new_mem_buf(tls->clientCertPem.data(), static_cast<int>(tls->clientCertPem.size()));
      X509* cert = PEM_read_bio_X509(certBio, nullptr, nullptr, nullptr);
      BIO* keyBio =
          BIO_new_mem_buf(tls->clientKeyPem.data(), static_cast<int>(tls->clientKeyPem.size()));
      EVP_PKEY* key = PEM_read_bio_PrivateKey(keyBio, nullptr, nullptr, nullptr);
      SSL_CTX_use_certificate(ctx_, cert);
      SSL_CTX_use_PrivateKey(ctx_, key);
      X509_free(cert);
      EVP_PKEY_free(key);
      BIO_free(certBio);
      BIO_free(keyBio);
    }
    static const unsigned char kBoth[] = "\x02h2\x08http/1.1";
    static const unsigned char kOnly11[] = "\x08http/1.1";
    if (tls->offerH2) {
      SSL_CTX_set_alpn_protos(ctx_, kBoth, sizeof(kBoth) - 1);
    } else {
      SSL_CTX_set_alpn_protos(ctx_, kOnly11, sizeof(kOnly11) - 1);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    SSL_set1_host(ssl_, "localhost");  // hostname must match a SAN
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) {
      char buf[256];
      ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
      return std::string("handshake: ") + buf;
    }
    const unsigned char* proto = nullptr;
    unsigned int protoLen = 0;
    SSL_get0_alpn_selected(ssl_, &proto, &protoLen);
    alpn_.assign(reinterpret_cast<const char*>(proto), protoLen);
    return "";
  }

  const std::string& alpn() const { return alpn_; }
  int fd() const { return fd_; }

  bool writeAll(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      long n = ssl_ ? SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done))
                    : ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // GET (or any method) with extra raw header lines ("Name: value\r\n...").
  bool sendRequest(const std::string& method, const std::string& target,
                   const std::string& headers = "", const std::string& body = "") {
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + headers;
    if (!body.empty()) request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n" + body;
    return writeAll(request);
  }

  // Status line and headers. nullopt when the connection ended first.
  std::optional<Response> readHead() {
    std::string line;
    Response response;
    if (!readLine(&line) || line.rfind("HTTP/1.", 0) != 0 || line.size() < 12) {
      return std::nullopt;
    }
    response.status = std::stoi(line.substr(9, 3));
    while (readLine(&line) && !line.empty()) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t start = line.find_first_not_of(' ', colon + 1);
      response.headers[name] = start == std::string::npos ? "" : line.substr(start);
    }
    return response;
  }

  // Next chunk of a chunked body; nullopt after the last chunk or on error.
  std::optional<std::string> readChunk() {
    std::string line;
    if (!readLine(&line)) return std::nullopt;
    size_t size = std::stoul(line, nullptr, 16);
    std::string data;
    if (!readExactly(size, &data)) return std::nullopt;
    std::string crlf;
    if (!readLine(&crlf)) return std::nullopt;
    if (size == 0) return std::nullopt;
    return data;
  }

  // A whole response (Content-Length, chunked, or until close).
  std::optional<Response> readResponse(bool headRequest = false) {
    auto response = readHead();
    if (!response) return std::nullopt;
    if (headRequest || response->status == 101 || response->status == 204 ||
        response->status == 304) {
      return response;
    }
    if (response->header("transfer-encoding") == "chunked") {
      while (auto chunk = readChunk()) response->body += *chunk;
    } else if (!response->header("content-length").empty()) {
      if (!readExactly(std::stoul(response->header("content-length")), &response->body)) {
        return std::nullopt;
      }
    } else {
      std::string data;
      while (readSomeInto(&data)) {
      }
      response->body = data;
    }
    return response;
  }

  // Reads exactly n bytes (buffered first).
  bool readExactly(size_t n, std::string* out) {
    while (buffer_.size() < n) {
      if (!fill()) return false;
    }
    out->assign(buffer_, 0, n);
    buffer_.erase(0, n);
    return true;
  }

  // True when the server has closed the connection (reads EOF).
  bool closedByPeer() {
    while (buffer_.empty()) {
      if (!fill()) return true;
    }
    return false;
  }

  void close() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
    ssl_ = nullptr;
    ctx_ = nullptr;
    fd_ = -1;
  }

 private:
  bool fill() {
    char data[16384];
    long n = ssl_ ? SSL_read(ssl_, data, sizeof(data)) : ::recv(fd_, data, sizeof(data), 0);
    if (n <= 0) return false;
    buffer_.append(data, static_cast<size_t>(n));
    return true;
  }

  bool readSomeInto(std::string* out) {
    if (buffer_.empty() && !fill()) return false;
    out->append(buffer_);
    buffer_.clear();
    return true;
  }

  bool readLine(std::string* line) {
    for (;;) {
      size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        line->assign(buffer_, 0, end);
        buffer_.erase(0, end + 2);
        return true;
      }
      if (buffer_.size() > (1 << 20) || !fill()) return false;
    }
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string alpn_;
  std::string buffer_;
};

}  // namespace berth::apiserver::http::testing
