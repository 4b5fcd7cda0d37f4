#include "prefetch/object_reader.h"

#include <utility>

#include "prefetch/reader_core.h"

namespace repofs::prefetch {

ObjectReader::ObjectReader(ReadaheadContext& context, ObjectVersion version)
    : core_(std::make_shared<internal::ReaderCore>(context,
                                                   std::move(version))) {}

ObjectReader::~ObjectReader() { core_->Close(internal::kCloseTimeout); }

Result<size_t> ObjectReader::Read(uint64_t offset, size_t len, char* out,
                                  ReadView* view) {
  return core_->Read(offset, len, out, view);
}

bool ObjectReader::Streaming(uint64_t offset, size_t len) const {
  return core_->Streaming(offset, len);
}

const ObjectVersion& ObjectReader::version() const { return core_->version(); }

}  // namespace repofs::prefetch
