#include "core/quantity.h"

#include <cmath>

namespace berth::core {

namespace {

using Int = __int128;

constexpr Int kNano = 1'000'000'000;

Int pow10(int e) {
  Int r = 1;
  while (e-- > 0) r *= 10;
  return r;
}

// Division rounding away from zero's lower side: upstream rounds values finer than 1n up.
Int divCeil(Int a, Int b) {
  Int q = a / b;
  if (a % b != 0 && a > 0) ++q;
  return q;
}

std::string toDecimal(Int v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  if (neg) v = -v;
  std::string s;
  while (v > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return neg ? "-" + s : s;
}

struct Suffix {
  const char* name;
  int exp10;  // decimal: power of ten
  int exp2;   // binary: power of 1024
};
constexpr Suffix kSuffixes[] = {{"n", -9, 0}, {"u", -6, 0}, {"m", -3, 0}, {"", 0, 0},
                                {"k", 3, 0},  {"M", 6, 0},  {"G", 9, 0},  {"T", 12, 0},
                                {"P", 15, 0}, {"E", 18, 0}, {"Ki", 0, 1}, {"Mi", 0, 2},
                                {"Gi", 0, 3}, {"Ti", 0, 4}, {"Pi", 0, 5}, {"Ei", 0, 6}};

}  // namespace

Quantity Quantity::fromInt(long long value, Format format) {
  Quantity q;
  q.nano_ = static_cast<Int>(value) * kNano;
  q.format_ = format;
  return q;
}

std::optional<Quantity> Quantity::parse(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (s[i] == '+' || s[i] == '-') negative = s[i++] == '-';
  Int mantissa = 0;
  int fractionDigits = 0, significant = 0;
  bool dot = false, digits = false;
  for (; i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'); ++i) {
    if (s[i] == '.') {
      if (dot) return std::nullopt;
      dot = true;
      continue;
    }
    digits = true;
    if (mantissa == 0 && s[i] == '0') {
      if (dot) ++fractionDigits;
      continue;
    }
    if (++significant > 24) return std::nullopt;
    mantissa = mantissa * 10 + (s[i] - '0');
    if (dot) ++fractionDigits;
  }
  if (!digits) return std::nullopt;
  std::string_view suffix = s.substr(i);
  Quantity q;
  int exp10 = 0, exp2 = 0;
  bool found = false;
  for (const auto& sx : kSuffixes) {
    if (suffix == sx.name) {
      exp10 = sx.exp10;
      exp2 = sx.exp2;
      found = true;
      q.format_ = sx.exp2 > 0 ? Format::kBinarySI : Format::kDecimalSI;
      break;
    }
  }
  if (!found) {
    if (suffix.size() < 2 || (suffix[0] != 'e' && suffix[0] != 'E')) return std::nullopt;
    std::string_view e = suffix.substr(1);
    size_t j = (e[0] == '+' || e[0] == '-') ? 1 : 0;
    if (j >= e.size() || e.size() - j > 3) return std::nullopt;
    int v = 0;
    for (size_t k = j; k < e.size(); ++k) {
      if (e[k] < '0' || e[k] > '9') return std::nullopt;
      v = v * 10 + (e[k] - '0');
    }
    exp10 = e[0] == '-' ? -v : v;
    q.format_ = Format::kDecimalExponent;
  }
  // Range check before exact arithmetic: 128 bits hold about 1.7e38.
  double magnitude = significant + (exp10 - fractionDigits) + 9 + exp2 * std::log10(1024.0);
  if (mantissa != 0 && magnitude > 37) return std::nullopt;
  Int v = mantissa;
  for (int k = 0; k < exp2; ++k) v *= 1024;
  int scale = exp10 + 9 - fractionDigits;
  if (scale >= 0) {
    v *= pow10(scale);
  } else if (scale < -38) {
    v = v == 0 ? 0 : 1;
  } else {
    v = divCeil(v, pow10(-scale));
  }
  q.nano_ = negative ? -v : v;
  return q;
}

long long Quantity::ceilValue() const { return static_cast<long long>(divCeil(nano_, kNano)); }

long double Quantity::approx() const {
  return static_cast<long double>(nano_) / static_cast<long double>(kNano);
}

Quantity& Quantity::operator+=(const Quantity& o) {
  if (nano_ == 0) format_ = o.format_;
  nano_ += o.nano_;
  return *this;
}

Quantity& Quantity::operator-=(const Quantity& o) {
  if (nano_ == 0) format_ = o.format_;
  nano_ -= o.nano_;
  return *this;
}

std::string Quantity::toString() const {
  if (nano_ == 0) return "0";
  Int abs = nano_ < 0 ? -nano_ : nano_;
  if (format_ == Format::kBinarySI && abs >= 1024 * kNano && abs % kNano == 0) {
    Int n = nano_ / kNano;
    int k = 0;
    while (k < 6 && n % 1024 == 0) {
      n /= 1024;
      ++k;
    }
    static const char* kBinary[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    return toDecimal(n) + kBinary[k];
  }
  // The largest exponent (multiple of 3, from -9) that keeps the mantissa an integer.
  int exp = -9;
  Int n = nano_;
  while (exp < 18 && n % 1000 == 0) {
    n /= 1000;
    exp += 3;
  }
  if (format_ == Format::kDecimalExponent) {
    return toDecimal(n) + (exp == 0 ? "" : "e" + std::to_string(exp));
  }
  for (const auto& sx : kSuffixes) {
    if (sx.exp2 == 0 && sx.exp10 == exp) return toDecimal(n) + sx.name;
  }
  return toDecimal(n);
}

}  // namespace berth::core
