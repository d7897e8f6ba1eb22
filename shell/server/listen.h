// The listeners of tink serve: a loopback (or --public) TCP acceptor from "HOST:PORT", and a UNIX
// socket acceptor (created 0600; a stale socket file of a killed daemon is replaced, a live
// one is refused). Internal to shell/server.
#pragma once

#include <optional>
#include <string>
#include <utility>  // std::exchange, which Boost 1.74's asio uses without including it

#include <boost/asio.hpp>

#include "schema/status.h"

namespace tink::server {

// Binds and listens on `listen` (HOST:PORT; "localhost" and [v6] accepted; port 0: any free);
// *url is "http://HOST:PORT" with the port actually bound. InvalidArgument for a bad address,
// IOError when it cannot be bound.
Status BindTcp(boost::asio::io_context& ioc, const std::string& listen,
               std::optional<boost::asio::ip::tcp::acceptor>* out, std::string* url);
// Binds and listens on the UNIX socket `path`.
Status BindUnix(boost::asio::io_context& ioc, const std::string& path,
                std::optional<boost::asio::local::stream_protocol::acceptor>* out);

}  // namespace tink::server
