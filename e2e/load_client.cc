#include "load_client.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace corral::e2e {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr std::chrono::milliseconds kConnectBackoff{50};
constexpr uint64_t kBodyLimit = uint64_t{256} << 20;

// The peer went away under a written request: what a restart must never do.
bool IsConnectionBroken(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream ||
         ec == bhttp::error::partial_message || ec == asio::error::eof ||
         ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted ||
         ec == asio::error::not_connected || ec == asio::error::shut_down;
}

std::string ToStdString(beast::string_view s) {
  return std::string(s.data(), s.size());
}

}  // namespace

std::string LoadCounts::ToString() const {
  return absl::StrCat("sent=", sent, " ok=", ok, " non_2xx=", non_2xx,
                      " connect_errors=", connect_errors,
                      " reset_errors=", reset_errors, " timeouts=", timeouts,
                      " other_errors=", other_errors);
}

// One keep-alive connection. Exactly one asynchronous operation (connect,
// backoff wait, write or read) is pending at a time, so each request gets
// exactly one outcome and Done() is reached exactly once.
class LoadClient::Connection {
 public:
  explicit Connection(LoadClient& client)
      : client_(client), stream_(client.io_), backoff_(client.io_) {}

  void Connect() {
    if (client_.stopping_ || client_.exhausted_) return Done();
    if (!client_.resolved_) {
      ++client_.connect_errors_;
      return RetryLater();
    }
    phase_ = Phase::kConnecting;
    buffer_.clear();
    stream_.expires_after(client_.options_.connect_timeout);
    stream_.async_connect(client_.endpoint_,
                          [this](beast::error_code ec) { OnConnect(ec); });
  }

  // Aborts a connect or a backoff wait. A request in flight is left to finish
  // so that it gets its real outcome.
  void Cancel() {
    if (phase_ == Phase::kConnecting) stream_.close();
    if (phase_ == Phase::kBackoff) backoff_.cancel();
  }

 private:
  enum class Phase { kIdle, kConnecting, kBackoff, kRequest, kDone };

  void OnConnect(beast::error_code ec) {
    if (client_.stopping_) {
      stream_.close();
      return Done();
    }
    if (ec) {
      ++client_.connect_errors_;
      stream_.close();  // a failed socket cannot connect again
      return RetryLater();
    }
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    SendNext();
  }

  void RetryLater() {
    phase_ = Phase::kBackoff;
    backoff_.expires_after(kConnectBackoff);
    backoff_.async_wait([this](beast::error_code) { Connect(); });
  }

  void SendNext() {
    if (client_.stopping_ || client_.exhausted_) {
      stream_.close();
      return Done();
    }
    const uint64_t n = client_.next_index_++;
    if (client_.options_.next) {
      spec_ = client_.options_.next(n);
    } else {
      spec_ = RequestSpec();
      spec_.method = "GET";
      spec_.target = "/";
    }
    if (spec_.method.empty()) {
      client_.exhausted_ = true;
      stream_.close();
      return Done();
    }
    request_ = {};
    request_.version(11);
    request_.method_string(spec_.method);
    request_.target(spec_.target);
    request_.set(bhttp::field::host, client_.host_header_);
    request_.set(bhttp::field::user_agent, "corral-e2e-load-client");
    if (!spec_.body.empty()) {
      request_.set(bhttp::field::content_type, spec_.content_type);
    }
    request_.body() = spec_.body;
    request_.prepare_payload();

    phase_ = Phase::kRequest;
    ++client_.sent_;
    // One deadline for the write and the whole response.
    stream_.expires_after(client_.options_.request_timeout);
    bhttp::async_write(stream_, request_,
                       [this](beast::error_code ec, size_t) { OnWrite(ec); });
  }

  void OnWrite(beast::error_code write_ec) {
    if (write_ec) return Fail(write_ec);
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    // A HEAD response announces a length but carries no body.
    if (request_.method() == bhttp::verb::head) parser_->skip(true);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [this](beast::error_code ec, size_t) { OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Fail(ec);
    const auto& response = parser_->get();
    const int status = response.result_int();
    if (client_.options_.on_response) {
      std::map<std::string, std::string> headers;
      for (const auto& field : response) {
        auto [it, inserted] = headers.try_emplace(
            absl::AsciiStrToLower(ToStdString(field.name_string())),
            ToStdString(field.value()));
        if (!inserted)
          absl::StrAppend(&it->second, ", ", ToStdString(field.value()));
      }
      client_.options_.on_response(spec_, status, response.body(), headers);
    }
    // Counted after on_response, so a test that saw completed() reach n also
    // sees everything on_response recorded for those requests.
    if (status >= 200 && status < 300) {
      ++client_.ok_;
    } else {
      ++client_.non_2xx_;
    }
    if (!parser_->keep_alive()) {
      // The server asked to close: a normal end of the connection.
      stream_.close();
      // With reconnects off (the endpoint was removed), this connection ends.
      if (!client_.reconnect_.load()) return Done();
      return Connect();
    }
    SendNext();
  }

  // Counts the outcome of the request in flight and starts over.
  void Fail(beast::error_code ec) {
    if (ec == beast::error::timeout) {
      ++client_.timeouts_;
    } else if (IsConnectionBroken(ec)) {
      ++client_.reset_errors_;
    } else {
      ++client_.other_errors_;
    }
    stream_.close();
    Connect();
  }

  void Done() {
    phase_ = Phase::kDone;
    client_.OnConnectionDone();
  }

  LoadClient& client_;
  beast::tcp_stream stream_;
  asio::steady_timer backoff_;
  beast::flat_buffer buffer_;
  RequestSpec spec_;
  bhttp::request<bhttp::string_body> request_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  Phase phase_ = Phase::kIdle;
};

LoadClient::LoadClient(LoadOptions options) : options_(std::move(options)) {}

LoadClient::~LoadClient() { Stop(); }

void LoadClient::Start() {
  if (thread_.joinable() || !connections_.empty()) return;
  tcp::resolver resolver(io_);
  beast::error_code ec;
  auto results =
      resolver.resolve(options_.host, std::to_string(options_.port), ec);
  if (!ec && !results.empty()) {
    endpoint_ = results.begin()->endpoint();
    resolved_ = true;
  }
  host_header_ = absl::StrCat(options_.host, ":", options_.port);

  for (int i = 0; i < options_.connections; ++i) {
    connections_.push_back(std::make_unique<Connection>(*this));
    ++live_connections_;
    Connection* c = connections_.back().get();
    asio::post(io_, [c] { c->Connect(); });
  }
  thread_ = std::thread([this] { io_.run(); });
}

void LoadClient::Stop() {
  if (!thread_.joinable()) return;
  // If every connection is already done the loop has ended and this post
  // never runs; join returns at once then.
  asio::post(io_, [this] { BeginStop(); });
  thread_.join();
}

void LoadClient::BeginStop() {
  stopping_ = true;
  for (auto& c : connections_) c->Cancel();
  if (live_connections_ == 0) io_.stop();
}

void LoadClient::OnConnectionDone() {
  // Stopping the loop explicitly: leftover internal timer completions of the
  // closed streams must not keep Stop() waiting.
  if (--live_connections_ == 0) io_.stop();
}

LoadCounts LoadClient::Counts() const {
  LoadCounts c;
  c.ok = ok_.load();
  c.non_2xx = non_2xx_.load();
  c.connect_errors = connect_errors_.load();
  c.reset_errors = reset_errors_.load();
  c.timeouts = timeouts_.load();
  c.other_errors = other_errors_.load();
  // Last: every outcome read above belongs to a request already counted here.
  c.sent = sent_.load();
  return c;
}

bool LoadClient::WaitForCompleted(uint64_t n,
                                  std::chrono::milliseconds deadline) const {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (Counts().completed() < n) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace corral::e2e
