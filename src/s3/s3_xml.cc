#include "s3/s3_xml.h"

#include <pugixml.hpp>

#include "s3/s3_response.h"
#include "util/string_util.h"
#include "util/time_format.h"

namespace repofs::s3 {
namespace {

// A parsed document plus what went wrong, so each parser reads linearly.
class Doc {
 public:
  // Parses `body` and checks the root element's name (`root` or `alt_root`).
  // parse_ws_pcdata keeps a key made only of spaces.
  bool Load(std::string_view body, const char* root,
            const char* alt_root = nullptr) {
    pugi::xml_parse_result r = doc_.load_buffer(
        body.data(), body.size(), pugi::parse_default | pugi::parse_ws_pcdata,
        pugi::encoding_utf8);
    if (!r) {
      error_ = std::string("XML not well-formed (") + r.description() +
               " at offset " + std::to_string(r.offset) + ")";
      return false;
    }
    root_ = doc_.document_element();
    std::string_view name = root_.name();
    if (name != root && (alt_root == nullptr || name != alt_root)) {
      error_ =
          std::string("expected <") + root + ">, got <" + root_.name() + ">";
      return false;
    }
    return true;
  }
  pugi::xml_node root() const { return root_; }
  S3Error Malformed() const {
    return MakeError(S3ErrorCode::kMalformedResponse, "response", error_);
  }
  S3Error Malformed(std::string detail) {
    error_ = std::move(detail);
    return Malformed();
  }

 private:
  pugi::xml_document doc_;
  pugi::xml_node root_;
  std::string error_;
};

std::optional<std::string> ChildText(pugi::xml_node node, const char* name) {
  pugi::xml_node child = node.child(name);
  if (!child) return std::nullopt;
  return std::string(child.text().get());
}

std::optional<uint64_t> ChildU64(pugi::xml_node node, const char* name) {
  auto text = ChildText(node, name);
  if (!text) return std::nullopt;
  auto v = ParseInt(Trim(*text));
  if (!v || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

std::optional<bool> ChildBool(pugi::xml_node node, const char* name) {
  auto text = ChildText(node, name);
  if (!text) return std::nullopt;
  std::string v = ToLower(Trim(*text));
  if (v == "true") return true;
  if (v == "false") return false;
  return std::nullopt;
}

bool UrlEncoded(pugi::xml_node root) {
  return ToLower(Trim(root.child("EncodingType").text().get())) == "url";
}

// The value of a key-like element, decoded when the listing is url-encoded.
std::optional<std::string> KeyText(pugi::xml_node node, const char* name,
                                   bool url_encoded) {
  auto text = ChildText(node, name);
  if (!text || !url_encoded) return text;
  return DecodeUrlEncodedValue(*text);
}

void AppendEscaped(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      // XML parsers normalize raw CR (and CRLF) to LF; a character
      // reference keeps it.
      case '\r':
        *out += "&#13;";
        break;
      default:
        *out += c;
    }
  }
}

}  // namespace

std::optional<std::string> DecodeUrlEncodedValue(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hex(text[i + 1]);
      int lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<ErrorDocument> ParseErrorDocument(std::string_view body) {
  if (Trim(body).empty()) return std::nullopt;
  Doc doc;
  if (!doc.Load(body, "Error")) return std::nullopt;
  ErrorDocument out;
  out.code = Trim(doc.root().child("Code").text().get());
  out.message = doc.root().child("Message").text().get();
  out.request_id = doc.root().child("RequestId").text().get();
  return out;
}

S3Result<ListPage> ParseListObjectsV2(std::string_view body) {
  Doc doc;
  if (!doc.Load(body, "ListBucketResult")) return doc.Malformed();
  pugi::xml_node root = doc.root();
  const bool encoded = UrlEncoded(root);
  ListPage page;
  for (pugi::xml_node c : root.children("Contents")) {
    ObjectInfo info;
    auto key = KeyText(c, "Key", encoded);
    auto size = ChildU64(c, "Size");
    auto modified = ChildText(c, "LastModified");
    if (!key || key->empty())
      return doc.Malformed("<Contents> without a valid <Key>");
    if (!size) return doc.Malformed("<Contents> without a valid <Size>");
    auto when = modified ? ParseIso8601(Trim(*modified)) : std::nullopt;
    if (!when)
      return doc.Malformed("<Contents> without a valid <LastModified>");
    info.key = std::move(*key);
    info.size = *size;
    info.last_modified = *when;
    info.etag = Unquote(c.child("ETag").text().get());
    info.storage_class = c.child("StorageClass").text().get();
    page.objects.push_back(std::move(info));
  }
  for (pugi::xml_node p : root.children("CommonPrefixes")) {
    auto prefix = KeyText(p, "Prefix", encoded);
    if (!prefix)
      return doc.Malformed("<CommonPrefixes> without a valid <Prefix>");
    page.common_prefixes.push_back(std::move(*prefix));
  }
  auto truncated = ChildBool(root, "IsTruncated");
  if (!truncated) return doc.Malformed("missing or invalid <IsTruncated>");
  page.truncated = *truncated;
  if (page.truncated) {
    page.next_continuation_token =
        Trim(root.child("NextContinuationToken").text().get());
    if (page.next_continuation_token.empty()) {
      return doc.Malformed("truncated listing without <NextContinuationToken>");
    }
  }
  return page;
}

S3Result<MultipartUploadsPage> ParseListMultipartUploads(
    std::string_view body) {
  Doc doc;
  if (!doc.Load(body, "ListMultipartUploadsResult")) return doc.Malformed();
  pugi::xml_node root = doc.root();
  const bool encoded = UrlEncoded(root);
  MultipartUploadsPage page;
  for (pugi::xml_node u : root.children("Upload")) {
    MultipartUploadInfo info;
    auto key = KeyText(u, "Key", encoded);
    auto id = ChildText(u, "UploadId");
    if (!key || key->empty())
      return doc.Malformed("<Upload> without a valid <Key>");
    if (!id || id->empty()) return doc.Malformed("<Upload> without <UploadId>");
    info.key = std::move(*key);
    info.upload_id = std::move(*id);
    info.initiated =
        ParseIso8601(Trim(u.child("Initiated").text().get())).value_or(0);
    page.uploads.push_back(std::move(info));
  }
  auto truncated = ChildBool(root, "IsTruncated");
  if (!truncated) return doc.Malformed("missing or invalid <IsTruncated>");
  page.truncated = *truncated;
  auto next_key = KeyText(root, "NextKeyMarker", encoded);
  page.next_key_marker = next_key.value_or("");
  page.next_upload_id_marker = root.child("NextUploadIdMarker").text().get();
  if (page.truncated && page.next_key_marker.empty()) {
    return doc.Malformed("truncated upload listing without <NextKeyMarker>");
  }
  return page;
}

S3Result<WriteResult> ParseCopyResult(std::string_view body) {
  Doc doc;
  if (!doc.Load(body, "CopyObjectResult", "CopyPartResult"))
    return doc.Malformed();
  auto etag = ChildText(doc.root(), "ETag");
  if (!etag || Unquote(*etag).empty())
    return doc.Malformed("copy result without <ETag>");
  WriteResult out;
  out.etag = Unquote(*etag);
  out.last_modified =
      ParseIso8601(Trim(doc.root().child("LastModified").text().get()))
          .value_or(0);
  return out;
}

S3Result<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  Doc doc;
  if (!doc.Load(body, "InitiateMultipartUploadResult")) return doc.Malformed();
  std::string id(Trim(doc.root().child("UploadId").text().get()));
  if (id.empty()) return doc.Malformed("missing <UploadId>");
  return id;
}

S3Result<WriteResult> ParseCompleteMultipartUpload(std::string_view body) {
  Doc doc;
  if (!doc.Load(body, "CompleteMultipartUploadResult")) return doc.Malformed();
  WriteResult out;
  out.etag = Unquote(doc.root().child("ETag").text().get());
  return out;
}

S3Result<std::vector<std::string>> ParseDeleteResult(std::string_view body) {
  Doc doc;
  if (!doc.Load(body, "DeleteResult")) return doc.Malformed();
  std::vector<std::string> failed;
  for (pugi::xml_node e : doc.root().children("Error")) {
    auto key = ChildText(e, "Key");
    if (!key) return doc.Malformed("<Error> entry without <Key>");
    failed.push_back(std::move(*key));
  }
  return failed;
}

bool IsXmlSafe(std::string_view key) {
  for (unsigned char c : key) {
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

std::string BuildDeleteObjectsXml(const std::vector<std::string>& keys,
                                  size_t begin, size_t end) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Delete "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
  for (size_t i = begin; i < end && i < keys.size(); ++i) {
    out += "<Object><Key>";
    AppendEscaped(&out, keys[i]);
    out += "</Key></Object>";
  }
  out += "</Delete>";
  return out;
}

std::string BuildCompleteMultipartXml(const std::vector<CompletedPart>& parts) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<CompleteMultipartUpload "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const CompletedPart& part : parts) {
    out += "<Part><PartNumber>" + std::to_string(part.part_number) +
           "</PartNumber><ETag>";
    AppendEscaped(&out, "\"" + part.etag + "\"");
    out += "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

std::string BuildCreateBucketXml(std::string_view region) {
  std::string out =
      "<CreateBucketConfiguration "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<LocationConstraint>";
  AppendEscaped(&out, region);
  out += "</LocationConstraint></CreateBucketConfiguration>";
  return out;
}

}  // namespace repofs::s3
