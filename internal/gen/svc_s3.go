package gen

import "github.com/trailbook/trailbook/internal/jsontext"

// s3Req opens requestParameters with the bucketName and Host every S3 call
// carries, then the sub-resource the call addresses (acl, policy, ...) as
// an empty string, as CloudTrail records S3 query parameters.
func s3Req(e *ev, sub string) {
	w := e.w
	e.reqOpen()
	w.str("bucketName", e.res.id)
	w.key("Host")
	w.b = append(w.b, '"')
	w.b = append(w.b, e.res.id...)
	w.b = append(w.b, ".s3."...)
	w.b = append(w.b, e.s.region...)
	w.b = append(w.b, `.amazonaws.com"`...)
	w.need = true
	if sub != "" {
		w.str(sub, "")
	}
}

// s3Extra writes S3's additionalEventData.
func s3Extra(e *ev, in, out int64) {
	w := e.w
	w.openK("additionalEventData")
	w.str("SignatureVersion", "SigV4")
	w.str("CipherSuite", "TLS_AES_128_GCM_SHA256")
	w.num("bytesTransferredIn", in)
	w.str("AuthenticationMethod", "AuthHeader")
	w.key("x-amz-id-2")
	w.b = append(w.b, '"')
	w.b = appendRandom(w.b, e.r, b64Chars, 76)
	w.b = append(w.b, `="`...)
	w.need = true
	w.num("bytesTransferredOut", out)
	w.close()
}

// s3Get renders the bucket-configuration reads: a query sub-resource, a
// null response and, for GetBucketAcl and friends, a response size.
func s3Get(sub string) func(*ev) {
	return func(e *ev) {
		s3Req(e, sub)
		e.w.close()
		e.w.null("responseElements")
		out := int64(0)
		if !e.err {
			out = int64(200 + e.r.IntN(900))
		}
		s3Extra(e, 0, out)
		e.addRes("AWS::S3::Bucket", e.res.arn)
		if e.act.kind == idAWSService {
			e.shared = true
		}
	}
}

func objectKey(e *ev) []byte {
	b := e.g.scr[:0]
	b = append(b, pick(e.r, []string{"uploads", "exports", "reports", "data/raw", "data/processed", "invoices", "images", "backups"})...)
	b = append(b, '/')
	b = appendTime(b, e.t-int64(e.r.IntN(86400*3)))
	b = b[:len(b)-10] // keep the YYYY-MM-DD of the timestamp
	b = append(b, '/')
	b = appendHex(b, e.r.Uint64(), 16)
	b = append(b, pick(e.r, []string{".json", ".parquet", ".csv.gz", ".png", ".pdf"})...)
	e.g.scr = b
	return b
}

func (c *catalog) addS3() {
	read := mix{25, 25, 20, 0, 30}
	svc := []string{"cloudtrail.amazonaws.com", "config.amazonaws.com"}

	t := c.def("s3", "GetBucketAcl", 18, true, kBucket, mix{5, 0, 5, 55, 35}, s3Get("acl"))
	t.services = svc
	c.def("s3", "GetBucketLocation", 8, true, kBucket, read, s3Get("location"))
	t = c.def("s3", "GetBucketPolicy", 7, true, kBucket, read, s3Get("policy"))
	t.errs = []errSpec{{code: "NoSuchBucketPolicy", pre: "The bucket policy does not exist", p: 0.35}}
	t = c.def("s3", "GetBucketTagging", 6, true, kBucket, read, s3Get("tagging"))
	t.errs = []errSpec{{code: "NoSuchTagSet", pre: "The TagSet does not exist", p: 0.2}}
	c.def("s3", "GetBucketEncryption", 5, true, kBucket, read, s3Get("encryption"))
	c.def("s3", "GetBucketVersioning", 5, true, kBucket, read, s3Get("versioning"))
	t = c.def("s3", "GetBucketPublicAccessBlock", 4, true, kBucket, read, s3Get("publicAccessBlock"))
	t.errs = []errSpec{{code: "NoSuchPublicAccessBlockConfiguration", pre: "The public access block configuration was not found", p: 0.15}}
	c.def("s3", "ListBuckets", 7, true, noKind, mix{40, 10, 20, 0, 30}, func(e *ev) {
		e.reqOpen()
		e.w.str("Host", "s3."+e.s.region+".amazonaws.com")
		e.w.close()
		e.w.null("responseElements")
		s3Extra(e, 0, int64(900+e.r.IntN(4000)))
	})

	object := func(put bool) func(*ev) {
		return func(e *ev) {
			w := e.w
			key := objectKey(e)
			s3Req(e, "")
			w.key("key")
			w.b = jsontext.AppendString(w.b, key)
			w.need = true
			if put {
				w.str("x-amz-server-side-encryption", "aws:kms")
			}
			w.close()
			if e.respOpen() {
				w.str("x-amz-server-side-encryption", "aws:kms")
				w.close()
			}
			size := int64(512 + e.r.IntN(2<<20))
			if put {
				s3Extra(e, size, 0)
			} else {
				if e.err {
					size = 0
				}
				s3Extra(e, 0, size)
			}
			objARN := make([]byte, 0, 14+len(e.res.id)+len(key))
			objARN = append(objARN, "arn:aws:s3:::"...)
			objARN = append(objARN, e.res.id...)
			objARN = append(objARN, '/')
			objARN = append(objARN, key...)
			e.refs[0] = resRef{typ: "AWS::S3::Object", arn: string(objARN), noAcct: true}
			e.refs[1] = resRef{typ: "AWS::S3::Bucket", arn: e.res.arn}
			e.nrefs = 2
		}
	}
	t = c.def("s3", "GetObject", 38, true, kBucket, mix{8, 85, 7, 0, 2}, object(false))
	t.data, t.crossOK, t.consoleUA = true, true, "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.681 Linux/5.10.215-180.856.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.402-b08 java/1.8.0_402 vendor/Oracle_Corporation cfg/retry-mode/standard]"
	t.errs = []errSpec{{code: "NoSuchKey", pre: "The specified key does not exist.", p: 0.02}}
	t = c.def("s3", "PutObject", 15, false, kBucket, mix{5, 85, 10, 0, 0}, object(true))
	t.data = true

	c.def("s3", "PutBucketPolicy", 1, false, kBucket, mix{40, 0, 60, 0, 0}, func(e *ev) {
		w := e.w
		s3Req(e, "policy")
		w.openK("bucketPolicy")
		w.str("Version", "2012-10-17")
		w.arrK("Statement")
		w.open()
		if e.st != nil && e.st.variant == 1 {
			w.str("Sid", "PublicRead")
			w.str("Effect", "Allow")
			w.str("Principal", "*")
			w.str("Action", "s3:GetObject")
			w.str("Resource", e.res.arn+"/*")
		} else {
			w.str("Sid", "DenyInsecureTransport")
			w.str("Effect", "Deny")
			w.str("Principal", "*")
			w.str("Action", "s3:*")
			w.arrK("Resource")
			w.elem(e.res.arn)
			w.elem(e.res.arn + "/*")
			w.closeArr()
			w.raw("Condition", `{"Bool":{"aws:SecureTransport":"false"}}`)
		}
		w.close()
		w.closeArr()
		w.close()
		w.close()
		w.null("responseElements")
		s3Extra(e, int64(300+e.r.IntN(400)), 0)
		e.addRes("AWS::S3::Bucket", e.res.arn)
	})
	c.def("s3", "DeleteBucketPublicAccessBlock", 0, false, kBucket, mix{100, 0, 0, 0, 0}, func(e *ev) {
		s3Req(e, "publicAccessBlock")
		e.w.close()
		e.w.null("responseElements")
		s3Extra(e, 0, 0)
		e.addRes("AWS::S3::Bucket", e.res.arn)
	})
	c.def("s3", "CreateBucket", 0, false, kBucket, mix{30, 0, 70, 0, 0}, func(e *ev) {
		w := e.w
		s3Req(e, "")
		if e.s.region != "us-east-1" {
			w.openK("CreateBucketConfiguration")
			w.str("LocationConstraint", e.s.region)
			w.str("xmlns", "http://s3.amazonaws.com/doc/2006-03-01/")
			w.close()
		}
		w.close()
		w.null("responseElements")
		s3Extra(e, int64(len(e.s.region)+130), 0)
		e.addRes("AWS::S3::Bucket", e.res.arn)
	})

	// PutBucketTagging replaces the whole tag set. CloudTrail converts the
	// XML body, so a single tag is an object and several are a list.
	c.def("s3", "PutBucketTagging", 0, false, kBucket, mix{45, 0, 55, 0, 0}, func(e *ev) {
		w := e.w
		tags := e.st.tags
		s3Req(e, "tagging")
		w.openK("Tagging")
		w.str("xmlns", "http://s3.amazonaws.com/doc/2006-03-01/")
		w.openK("TagSet")
		if len(tags) == 1 {
			w.openK("Tag")
			w.str("Key", tags[0].key)
			w.str("Value", tags[0].value)
			w.close()
		} else {
			w.arrK("Tag")
			for _, tg := range tags {
				w.open()
				w.str("Key", tg.key)
				w.str("Value", tg.value)
				w.close()
			}
			w.closeArr()
		}
		w.close()
		w.close()
		w.close()
		w.null("responseElements")
		s3Extra(e, int64(90+40*len(tags)), 0)
		e.addRes("AWS::S3::Bucket", e.res.arn)
	})
	c.def("s3", "DeleteBucketTagging", 0, false, kBucket, mix{45, 0, 55, 0, 0}, func(e *ev) {
		s3Req(e, "tagging")
		e.w.close()
		e.w.null("responseElements")
		s3Extra(e, 0, 0)
		e.addRes("AWS::S3::Bucket", e.res.arn)
	})
}
