#pragma once
// The one way this folder includes Asio, Asio SSL and Beast. Both libraries are compiled once, in
// asio_impl.cpp (their separate-compilation modes), so every .cpp here only instantiates the
// templates it uses. Every file in this folder that touches Asio or Beast includes them through
// this header only (never <boost/asio...> directly), so the macros are always seen first; nothing
// outside the folder includes it.
#ifndef BOOST_ASIO_SEPARATE_COMPILATION
#define BOOST_ASIO_SEPARATE_COMPILATION
#endif
#ifndef BOOST_BEAST_SEPARATE_COMPILATION
#define BOOST_BEAST_SEPARATE_COMPILATION
#endif

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace berth::apiserver::http::internal {
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
}  // namespace berth::apiserver::http::internal
