package awslocal

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// XML namespaces of the services' responses.
const (
	xmlNSEC2 = "http://ec2.amazonaws.com/doc/2016-11-15/"
	xmlNSIAM = "https://iam.amazonaws.com/doc/2010-05-08/"
	xmlNSSNS = "http://sns.amazonaws.com/doc/2010-03-31/"
	xmlNSS3  = "http://s3.amazonaws.com/doc/2006-03-01/"
)

// queryForm parses a Query protocol request (form fields in the body, or
// in the URL) and records its fields and Action.
func (c *call) queryForm() url.Values {
	form, err := url.ParseQuery(string(c.body))
	if err != nil {
		form = url.Values{}
	}
	for k, vs := range c.req.URL.Query() {
		form[k] = append(form[k], vs...)
	}
	for k, vs := range form {
		c.rec.Params[k] = vs[0]
	}
	c.rec.Operation = form.Get("Action")
	return form
}

// members returns the values of a Query list parameter, PREFIX.1,
// PREFIX.2, ... up to the first missing index.
func members(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		k := prefix + "." + strconv.Itoa(i)
		if _, ok := form[k]; !ok {
			return out
		}
		out = append(out, form.Get(k))
	}
}

// queryTag is a Key/Value pair of a Query list; HasValue tells a value
// sent empty from one not sent.
type queryTag struct {
	Key, Value string
	HasValue   bool
}

// queryTags returns the PREFIX.N.Key / PREFIX.N.Value pairs of a Query
// request.
func queryTags(form url.Values, prefix string) []queryTag {
	var out []queryTag
	for i := 1; ; i++ {
		p := prefix + "." + strconv.Itoa(i)
		if _, ok := form[p+".Key"]; !ok {
			return out
		}
		_, has := form[p+".Value"]
		out = append(out, queryTag{Key: form.Get(p + ".Key"), Value: form.Get(p + ".Value"), HasValue: has})
	}
}

// required returns the named Query parameter, or the protocol's error for
// a missing one.
func required(form url.Values, name, code string) (string, *apiError) {
	v := form.Get(name)
	if v == "" {
		return "", errorf(http.StatusBadRequest, code, "The request must contain the parameter %s", name)
	}
	return v, nil
}

func (c *call) writeXML(v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		c.status = http.StatusInternalServerError
		c.out = []byte(err.Error())
		return
	}
	c.header.Set("Content-Type", "text/xml;charset=UTF-8")
	c.out = append([]byte(xml.Header), out...)
}

// queryResult is a Query protocol (IAM, SNS) answer:
// <OpResponse><OpResult>...</OpResult><ResponseMetadata>.
type queryResult struct {
	XMLName   xml.Name
	Xmlns     string `xml:"xmlns,attr"`
	Result    any
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// queryOK answers a Query request with result (a struct whose XMLName the
// caller need not set; nil for operations without one).
func (c *call) queryOK(ns string, result any) {
	r := queryResult{XMLName: xml.Name{Local: c.rec.Operation + "Response"}, Xmlns: ns, RequestID: c.id}
	if result != nil {
		r.Result = resultElement{name: c.rec.Operation + "Result", v: result}
	}
	c.writeXML(r)
}

// resultElement marshals v under the element name.
type resultElement struct {
	name string
	v    any
}

func (r resultElement) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	return e.EncodeElement(r.v, xml.StartElement{Name: xml.Name{Local: r.name}})
}

// queryError answers a Query request (IAM, SNS) with an error.
func (c *call) queryError(ns string, e *apiError) {
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	c.status = e.status
	c.rec.Error = e.code
	c.writeXML(struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}{Xmlns: ns, Type: typ, Code: e.code, Message: e.message, RequestID: c.id})
}

// ec2Error answers an EC2 request with an error.
func (c *call) ec2Error(e *apiError) {
	c.status = e.status
	c.rec.Error = e.code
	c.writeXML(struct {
		XMLName   xml.Name `xml:"Response"`
		Code      string   `xml:"Errors>Error>Code"`
		Message   string   `xml:"Errors>Error>Message"`
		RequestID string   `xml:"RequestID"`
	}{Code: e.code, Message: e.message, RequestID: c.id})
}

// s3Error answers an S3 request with an error.
func (c *call) s3Error(e *apiError) {
	c.status = e.status
	c.rec.Error = e.code
	var b strings.Builder
	b.WriteString(xml.Header + "<Error>")
	elem := func(name, v string) {
		b.WriteString("<" + name + ">")
		xml.EscapeText(&b, []byte(v))
		b.WriteString("</" + name + ">")
	}
	elem("Code", e.code)
	elem("Message", e.message)
	keys := make([]string, 0, len(e.extra))
	for k := range e.extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		elem(k, e.extra[k])
	}
	elem("RequestId", c.id)
	elem("HostId", "awslocal")
	b.WriteString("</Error>")
	c.header.Set("Content-Type", "application/xml")
	c.out = []byte(b.String())
}

// jsonOK answers a JSON 1.1 request.
func (c *call) jsonOK(v any) {
	out, err := json.Marshal(v)
	if err != nil {
		c.jsonError(errorf(http.StatusInternalServerError, "InternalServiceException", "%v", err))
		return
	}
	c.header.Set("Content-Type", "application/x-amz-json-1.1")
	c.out = out
}

// jsonError answers a JSON 1.1 request with an error.
func (c *call) jsonError(e *apiError) {
	c.status = e.status
	c.rec.Error = e.code
	c.header.Set("Content-Type", "application/x-amz-json-1.1")
	c.header.Set("X-Amzn-Errortype", e.code)
	c.out, _ = json.Marshal(map[string]string{"__type": e.code, "message": e.message})
}

// flattenJSON records a decoded JSON value in params, objects as dotted
// paths and lists with 1-based indexes.
func flattenJSON(params map[string]string, prefix string, v any) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			flattenJSON(params, join(k), e)
		}
	case []any:
		for i, e := range v {
			flattenJSON(params, join(strconv.Itoa(i+1)), e)
		}
	case string:
		params[prefix] = v
	case nil:
		params[prefix] = ""
	default:
		out, _ := json.Marshal(v)
		params[prefix] = string(out)
	}
}

// escapeRFC3986 URL-encodes s the way IAM returns policy documents: every
// byte but the unreserved characters is percent-encoded.
func escapeRFC3986(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case 'A' <= ch && ch <= 'Z', 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9',
			ch == '-', ch == '_', ch == '.', ch == '~':
			b.WriteByte(ch)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[ch>>4])
			b.WriteByte(hex[ch&15])
		}
	}
	return b.String()
}
