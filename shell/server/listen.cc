#include "shell/server/listen.h"

#include <sys/stat.h>
#include <unistd.h>

namespace tink::server {

namespace net = boost::asio;
using Tcp = net::ip::tcp;
using Local = net::local::stream_protocol;

Status BindTcp(net::io_context& ioc, const std::string& listen, std::optional<Tcp::acceptor>* out,
               std::string* url) {
  boost::system::error_code ec;
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("--listen: expected HOST:PORT, got '" + listen + "'");
  }
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const net::ip::address addr = net::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("--listen: not an IP address: '" + host + "'");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535) {
    return Status::InvalidArgument("--listen: not a port: '" + port + "'");
  }
  const Tcp::endpoint ep(addr, static_cast<unsigned short>(std::stoul(port)));
  Tcp::acceptor& a = out->emplace(ioc);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError("listening on " + listen + ": " + ec.message());
  const Tcp::endpoint bound = a.local_endpoint();
  const std::string h = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                : bound.address().to_string();
  *url = "http://" + h + ":" + std::to_string(bound.port());
  return Status::Ok();
}

Status BindUnix(net::io_context& ioc, const std::string& path, std::optional<Local::acceptor>* out) {
  boost::system::error_code ec;
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::IOError("--socket " + path + ": exists and is not a socket");
    }
    // A live server answers on it; a stale file (a killed daemon's) is replaced.
    Local::socket probe(ioc);
    probe.connect(Local::endpoint(path), ec);
    if (!ec) return Status::IOError("--socket " + path + ": another server is listening there");
    ::unlink(path.c_str());
  }
  Local::acceptor& a = out->emplace(ioc);
  const mode_t old = ::umask(077);
  a.open(Local(), ec);
  if (!ec) a.bind(Local::endpoint(path), ec);
  ::umask(old);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError("listening on unix:" + path + ": " + ec.message());
  ::chmod(path.c_str(), 0600);
  return Status::Ok();
}

}  // namespace tink::server
