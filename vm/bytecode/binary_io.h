// Little-endian byte writer and bounds-checked reader, shared by the module
// format (serialize.h) and the VM state format (vm/interp/state.h).
//
// The reader never reads past its end and never allocates more than the
// input could describe: every count is checked against the bytes left before
// anything is reserved, so a truncated or hostile file yields a Result error
// ("truncated ..."), never a crash or a huge allocation.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace flow::bytecode {

class ByteWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void I64(int64_t v) { Raw(&v, 8); }
  void F64(double v) { Raw(&v, 8); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  void Bytes(std::string_view s) { out_.append(s.data(), s.size()); }
  auto take() -> std::string { return std::move(out_); }
  auto data() const -> const std::string& { return out_; }

 private:
  // The formats are little-endian; flow only builds on little-endian hosts
  // (checked by the sanity block, see serialize.cpp).
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  // Each read returns false (and leaves the output unspecified) when the
  // input ends first; ok() stays false from then on.
  auto U8(uint8_t& v) -> bool { return Raw(&v, 1); }
  auto U32(uint32_t& v) -> bool { return Raw(&v, 4); }
  auto U64(uint64_t& v) -> bool { return Raw(&v, 8); }
  auto I64(int64_t& v) -> bool { return Raw(&v, 8); }
  auto F64(double& v) -> bool { return Raw(&v, 8); }
  auto Str(std::string& s) -> bool {
    uint32_t n = 0;
    if (!U32(n) || n > left()) return Fail();
    s.assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  auto Bytes(size_t n, std::string& s) -> bool {
    if (n > left()) return Fail();
    s.assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  // Reads a count of items each at least `min_item_bytes` long; fails when
  // the rest of the input cannot hold that many.
  auto Count(uint32_t& n, size_t min_item_bytes) -> bool {
    if (!U32(n)) return false;
    if (min_item_bytes > 0 && n > left() / min_item_bytes) return Fail();
    return true;
  }
  auto left() const -> size_t { return in_.size() - pos_; }
  auto pos() const -> size_t { return pos_; }
  auto ok() const -> bool { return ok_; }
  auto at_end() const -> bool { return pos_ == in_.size(); }

 private:
  auto Raw(void* p, size_t n) -> bool {
    if (!ok_ || n > left()) return Fail();
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  auto Fail() -> bool {
    ok_ = false;
    return false;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace flow::bytecode
