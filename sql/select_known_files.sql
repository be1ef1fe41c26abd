select unit_code, sha256 from submission
