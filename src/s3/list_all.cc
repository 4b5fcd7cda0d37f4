// ListAll: pages through ListObjectsV2 with continuation tokens.
#include <set>
#include <string>

#include "repofs/object_client.h"

namespace repofs {

S3Status ListAll(ObjectClient& client, ListRequest request,
                 const std::function<bool(const ListPage&)>& on_page) {
  // Every token a server hands out must be new: a truncated page with an
  // empty or already-seen token would otherwise make us loop forever (or
  // deliver the same page twice). The set also bounds the loop.
  std::set<std::string> seen_tokens;
  if (!request.continuation_token.empty()) {
    seen_tokens.insert(request.continuation_token);
  }
  for (;;) {
    S3Result<ListPage> page = client.ListObjects(request);
    if (!page.has_value()) return page.error();
    if (page->truncated) {
      const std::string& token = page->next_continuation_token;
      if (token.empty() || !seen_tokens.insert(token).second) {
        return S3Error{S3ErrorCode::kMalformedResponse, 0, "",
                       token.empty()
                           ? "ListObjectsV2: truncated page without a "
                             "continuation token"
                           : "ListObjectsV2: repeated continuation token",
                       ""};
      }
    }
    if (!on_page(*page)) return S3Status();
    if (!page->truncated) return S3Status();
    request.continuation_token = page->next_continuation_token;
    // S3 ignores start-after once a continuation token is given.
    request.start_after.clear();
  }
}

}  // namespace repofs
