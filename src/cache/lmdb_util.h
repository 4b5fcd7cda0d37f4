// Thin RAII helpers over the LMDB C API for the block cache (the only
// module allowed to include <lmdb.h>; CONVENTIONS.md "Layers").
//
// MdbEnv owns an MDB_env (closed on destruction). Txn is a move-only
// transaction whose destructor aborts it unless it was committed (lmdbxx
// style). The byte helpers encode fixed-width integers: big-endian where
// the value is part of a key (so LMDB's memcmp order is numeric order),
// little-endian inside values.
//
// Thread-safety: an MdbEnv may be shared by threads (the env is opened with
// MDB_NOTLS); a Txn belongs to the thread that uses it.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "repofs/result.h"
#include "util/handles.h"

namespace repofs::cache {

using MdbEnv = std::unique_ptr<MDB_env, CDeleter<mdb_env_close>>;

// "<what>: <mdb_strerror>" as an Error; MDB_MAP_FULL keeps ENOSPC.
Error MdbError(int rc, std::string_view what);

class Txn {
 public:
  Txn() = default;
  // Begins a transaction; read-only when `read_only`.
  static Result<Txn> Begin(MDB_env* env, bool read_only);
  Txn(Txn&& o) noexcept : txn_(std::exchange(o.txn_, nullptr)) {}
  Txn& operator=(Txn&& o) noexcept {
    if (this != &o) {
      Abort();
      txn_ = std::exchange(o.txn_, nullptr);
    }
    return *this;
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() { Abort(); }

  MDB_txn* get() const { return txn_; }
  // Returns the mdb return code (0 on success); the txn is gone either way.
  int Commit();
  void Abort() {
    if (txn_ != nullptr) mdb_txn_abort(std::exchange(txn_, nullptr));
  }

  // Get: MDB_SUCCESS / MDB_NOTFOUND / error; `value` views LMDB memory
  // valid until the txn ends or the next write.
  int Get(MDB_dbi dbi, std::string_view key, std::string_view* value) const;
  int Put(MDB_dbi dbi, std::string_view key, std::string_view value,
          unsigned flags = 0);
  // Deleting a missing key is not an error (returns 0).
  int Del(MDB_dbi dbi, std::string_view key);

 private:
  MDB_txn* txn_ = nullptr;
};

// Owns an MDB_cursor (closed on destruction; must not outlive its txn).
class Cursor {
 public:
  Cursor(const Txn& txn, MDB_dbi dbi);
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  bool ok() const { return cursor_ != nullptr; }
  // Positions at the first key >= `key` (or the first key when empty).
  bool Seek(std::string_view key);
  bool First();
  bool Next();
  bool Last();
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }
  // Deletes the current entry; a following Next() yields the one after it.
  int Delete();

 private:
  bool Move(MDB_cursor_op op, std::string_view seek = {});
  MDB_cursor* cursor_ = nullptr;
  std::string_view key_, value_;
};

inline MDB_val ToVal(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view FromVal(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

inline void PutBe64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}
inline uint64_t GetBe64(std::string_view s, size_t pos) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(s[pos + i]);
  return v;
}
inline void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out->push_back(static_cast<char>(v >> (8 * i)));
}
inline uint64_t GetLe(std::string_view s, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(s[pos + i]);
  return v;
}

}  // namespace repofs::cache
