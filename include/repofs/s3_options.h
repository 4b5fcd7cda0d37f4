// S3Options: how to reach and address one bucket. Parsed from -o options in
// daemon/ and passed by const reference to the S3 client (no globals).
#pragma once

#include <string>

namespace repofs {

struct S3Options {
  // Scheme, host and optional port, e.g. "http://127.0.0.1:7480". Empty:
  // https://s3.<region>.amazonaws.com.
  std::string endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  // Path-style (https://host/bucket/key) instead of virtual-hosted
  // (https://bucket.host/key).
  bool path_style = false;

  bool verify_tls = true;
  std::string ca_file;          // default: $AWS_CA_BUNDLE, else system store

  std::string storage_class;    // x-amz-storage-class on writes; "" = default
  std::string sse;              // "", "AES256" or "aws:kms"
  std::string sse_kms_key_id;   // with sse == "aws:kms"
  bool sign_payload = false;    // sha256 of bodies instead of UNSIGNED-PAYLOAD

  int connect_timeout_ms = 5000;
  // A transfer slower than low_speed_bytes/s for low_speed_time_s fails.
  int low_speed_time_s = 30;
  int low_speed_bytes = 1024;
  int request_timeout_ms = 0;   // whole-request cap; 0 = none
  int max_connections = 64;     // keep-alive pool size

  int max_retries = 6;          // attempts after the first
  int retry_base_delay_ms = 100;
  int retry_max_delay_ms = 10000;
};

}  // namespace repofs
