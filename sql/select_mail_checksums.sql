select sha256 from mail_message
