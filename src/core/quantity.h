#pragma once
// Quantity: upstream's resource.Quantity ("100m", "1.5Gi", "2e3") as an exact value for
// arithmetic — ResourceQuota usage sums and compares quantities, where a floating-point value
// would let 0.1+0.2 exceed 0.3. The value is held in nano-units in 128 bits (exact from 1n up
// to well past 1Ei), finer precision rounds up as upstream's parser does.
//
// toString() is upstream's canonical form (Quantity.String()): the format of the first addend,
// decimal suffixes with an exponent multiple of 3 (1500m, 2, 1k, 1500), binary suffixes while the
// value is an integer multiple of 1024 (2560Mi), otherwise decimal.
//
// Thread-safety: a plain value type.
#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace berth::core {

class Quantity {
 public:
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;
  static Quantity fromInt(long long value, Format format = Format::kDecimalSI);
  // Nullopt when `text` is not a quantity.
  static std::optional<Quantity> parse(std::string_view text);

  Format format() const { return format_; }
  bool isZero() const { return nano_ == 0; }
  bool negative() const { return nano_ < 0; }
  // The value rounded up to an integer (what an object count or byte count is).
  long long ceilValue() const;
  // The value as a floating-point number, for ratios (upstream divides float64 values there).
  long double approx() const;

  // Upstream's Add/Sub: a zero left-hand side takes the right-hand side's format.
  Quantity& operator+=(const Quantity& o);
  Quantity& operator-=(const Quantity& o);
  friend Quantity operator+(Quantity a, const Quantity& b) { return a += b; }
  friend Quantity operator-(Quantity a, const Quantity& b) { return a -= b; }
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.nano_ == b.nano_; }
  friend std::strong_ordering operator<=>(const Quantity& a, const Quantity& b) {
    return a.nano_ <=> b.nano_;
  }

  std::string toString() const;

 private:
  __int128 nano_ = 0;
  Format format_ = Format::kDecimalSI;
};

}  // namespace berth::core
