// The compiled bodies of Asio, Asio SSL and Beast, for the whole program (separate compilation
// mode, see internal/beast.h). Nothing else belongs in this file.
// clang-format off
#include "apiserver/http/internal/beast.h"  // must come first: defines the separate-compilation macros

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
// clang-format on
