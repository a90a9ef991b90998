package awsfake

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// This file holds the three protocols' operations: what each does to the
// Handler's state, and what it answers.

// EC2's fixed values.
const (
	// firstID is the hexadecimal number of InstanceID and of the first
	// reservation; later ones count up from it.
	firstID      = 0x0123456789abcdef0
	ownerID      = "123456789012"
	defaultImage = "ami-0abcdef1234567890"
	defaultType  = "t3.micro"
	ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
)

// instance is one EC2 instance launched.
type instance struct {
	id, reservation, image, instanceType string
}

// launch is what a RunInstances request with a ClientToken did: its
// parameters, canonical (see launchParams), and its reservation.
type launch struct {
	params      string
	reservation string
	instances   []instance
}

// ec2 routes an EC2 Query request with the form values form.
func (h *Handler) ec2(form url.Values) operation {
	action := form.Get("Action")
	return operation{
		name: "ec2:" + action,
		act: func(id string) answer {
			switch action {
			case "RunInstances":
				return h.runInstances(form, id)
			case "DescribeInstances":
				return h.describeInstances(form, id)
			default: // CreateTags and other actions that return true
				return ec2Answer(fmt.Sprintf(`<%sResponse xmlns="%s"><requestId>%s</requestId>`+
					`<return>true</return></%sResponse>`, action, ec2Namespace, id, action))
			}
		},
		fail: func(reply Reply, id string) answer {
			if reply.Body != "" {
				return page(reply, http.Header{})
			}
			return ec2Error(reply.Status, reply.Code, reply.Message, id)
		},
	}
}

// runInstances launches instances, or answers a ClientToken's earlier
// launch again, or rejects a token reused with other parameters.
func (h *Handler) runInstances(form url.Values, id string) answer {
	token := form.Get("ClientToken") // "" is no token
	params := launchParams(form)
	h.mu.Lock()
	defer h.mu.Unlock()
	l, seen := h.launches[token]
	switch {
	case token != "" && seen && l.params != params:
		return ec2Error(http.StatusBadRequest, "IdempotentParameterMismatch",
			"The request uses the same client token as a previous, but non-identical request. "+
				"Do not reuse a client token with different requests, unless the requests are identical.", id)
	case token != "" && seen:
		// The original launch: same reservation, same instances.
	default:
		l = h.launch(form, params)
		if token != "" {
			h.launches[token] = l
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<RunInstancesResponse xmlns="%s"><requestId>%s</requestId><reservationId>%s</reservationId>`+
		`<ownerId>%s</ownerId><instancesSet>`, ec2Namespace, id, l.reservation, ownerID)
	for _, in := range l.instances {
		writeInstance(&b, in, 0, "pending")
	}
	b.WriteString(`</instancesSet></RunInstancesResponse>`)
	return ec2Answer(b.String())
}

// launchParams returns the parameters of a RunInstances request that its
// ClientToken binds, in a canonical form: every form value but Action,
// Version and ClientToken itself, sorted by name (url.Values.Encode).
func launchParams(form url.Values) string {
	params := url.Values{}
	for k, vs := range form {
		if k != "Action" && k != "Version" && k != "ClientToken" {
			params[k] = vs
		}
	}
	return params.Encode()
}

// launch launches MaxCount instances (1 when MaxCount is missing or not a
// positive number) in a new reservation; h.mu is held.
func (h *Handler) launch(form url.Values, params string) launch {
	count, err := strconv.Atoi(form.Get("MaxCount"))
	if err != nil || count < 1 {
		count = 1
	}
	l := launch{params: params, reservation: fmt.Sprintf("r-%017x", firstID+uint64(h.reservations))}
	h.reservations++
	for range count {
		in := instance{
			id:           fmt.Sprintf("i-%017x", firstID+uint64(len(h.instances))),
			reservation:  l.reservation,
			image:        orDefault(form.Get("ImageId"), defaultImage),
			instanceType: orDefault(form.Get("InstanceType"), defaultType),
		}
		h.instances = append(h.instances, in)
		l.instances = append(l.instances, in)
	}
	h.applied["ec2:RunInstances"] += count
	return l
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// describeInstances answers for the instances asked for (InstanceId.1,
// InstanceId.2, ...), running: those launched as they were launched, others
// as if InstanceID's reservation had launched them, so that a test need not
// launch what it describes. Asked for none, it answers for every instance
// launched, or for InstanceID when there is none.
func (h *Handler) describeInstances(form url.Values, id string) answer {
	var ids []string
	for i := 1; form.Has("InstanceId." + strconv.Itoa(i)); i++ {
		ids = append(ids, form.Get("InstanceId."+strconv.Itoa(i)))
	}
	h.mu.Lock()
	var found []instance
	if len(ids) == 0 {
		found = slices.Clone(h.instances)
		if len(found) == 0 {
			ids = []string{InstanceID}
		}
	}
	for _, want := range ids {
		i := slices.IndexFunc(h.instances, func(in instance) bool { return in.id == want })
		if i >= 0 {
			found = append(found, h.instances[i])
		} else {
			found = append(found, instance{id: want, reservation: fmt.Sprintf("r-%017x", firstID),
				image: defaultImage, instanceType: defaultType})
		}
	}
	h.mu.Unlock()

	// One item per reservation, in the order they first appear.
	var reservations []string
	byReservation := map[string][]instance{}
	for _, in := range found {
		if byReservation[in.reservation] == nil {
			reservations = append(reservations, in.reservation)
		}
		byReservation[in.reservation] = append(byReservation[in.reservation], in)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<DescribeInstancesResponse xmlns="%s"><requestId>%s</requestId><reservationSet>`, ec2Namespace, id)
	for _, r := range reservations {
		fmt.Fprintf(&b, `<item><reservationId>%s</reservationId><ownerId>%s</ownerId><instancesSet>`, r, ownerID)
		for _, in := range byReservation[r] {
			writeInstance(&b, in, 16, "running")
		}
		b.WriteString(`</instancesSet></item>`)
	}
	b.WriteString(`</reservationSet></DescribeInstancesResponse>`)
	return ec2Answer(b.String())
}

// writeInstance writes an instance's item, in the state of the given code
// and name.
func writeInstance(b *strings.Builder, in instance, code int, state string) {
	fmt.Fprintf(b, `<item><instanceId>%s</instanceId><imageId>%s</imageId>`+
		`<instanceState><code>%d</code><name>%s</name></instanceState><instanceType>%s</instanceType></item>`,
		escape(in.id), escape(in.image), code, state, escape(in.instanceType))
}

// ec2Answer is an EC2 success with the XML document doc.
func ec2Answer(doc string) answer {
	return answer{status: http.StatusOK, header: http.Header{"Content-Type": {"text/xml;charset=UTF-8"}}, body: []byte(doc)}
}

// ec2Error is an EC2 error document.
func ec2Error(status int, code, message, id string) answer {
	doc := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
		escape(code), escape(message), id)
	a := ec2Answer(doc)
	a.status, a.code = status, code
	return a
}

// dynamodb routes a DynamoDB request for action (the X-Amz-Target's
// operation), with the JSON body.
func (h *Handler) dynamodb(action string, body []byte) operation {
	op := "dynamodb:" + action
	return operation{
		name: op,
		act: func(id string) answer {
			switch action {
			case "GetItem":
				return dynamodbAnswer(id, `{"Item":{"id":{"S":"1"},"name":{"S":"awsretry"}}}`)
			case "PutItem", "UpdateItem":
				// No token protects these: each request applies.
				h.mu.Lock()
				h.applied[op]++
				h.mu.Unlock()
				return dynamodbAnswer(id, `{}`)
			case "TransactWriteItems":
				return h.transactWriteItems(body, id)
			default:
				return dynamodbAnswer(id, `{}`)
			}
		},
		fail: func(reply Reply, id string) answer {
			if reply.Body != "" {
				return page(reply, http.Header{"X-Amzn-Requestid": {id}})
			}
			return dynamodbError(reply.Status, reply.Code, reply.Message, id)
		},
	}
}

// transactWriteItems applies a transaction, or answers a
// ClientRequestToken's earlier one again, or rejects a token reused with
// another request. The request a token binds is the JSON body without the
// token, canonical: decoded and encoded again, so that its members' order
// and spacing do not count.
func (h *Handler) transactWriteItems(body []byte, id string) answer {
	var request map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&request); err != nil {
		return dynamodbError(http.StatusBadRequest, "SerializationException", err.Error(), id)
	}
	token, hasToken := request["ClientRequestToken"].(string)
	if _, set := request["ClientRequestToken"]; set && (!hasToken || len(token) < 1 || len(token) > 36) {
		return dynamodbError(http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: "+
			"Value '%v' at 'clientRequestToken' failed to satisfy constraint: "+
			"Member must have length between 1 and 36", request["ClientRequestToken"]), id)
	}
	delete(request, "ClientRequestToken")
	canonical, err := json.Marshal(request)
	if err != nil {
		return dynamodbError(http.StatusBadRequest, "SerializationException", err.Error(), id)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if hasToken {
		if first, seen := h.transactions[token]; seen {
			if first != string(canonical) {
				return dynamodbError(http.StatusBadRequest, "IdempotentParameterMismatchException",
					"DynamoDB rejected the request because you retried a request with a different payload "+
						"but with an idempotent token that was already used.", id)
			}
			return dynamodbAnswer(id, `{}`) // the first request's answer, applied once
		}
		h.transactions[token] = string(canonical)
	}
	h.applied["dynamodb:TransactWriteItems"]++
	return dynamodbAnswer(id, `{}`)
}

// dynamodbAnswer is a DynamoDB success with the JSON document doc.
func dynamodbAnswer(id, doc string) answer {
	return answer{status: http.StatusOK, header: http.Header{
		"X-Amzn-Requestid": {id},
		"Content-Type":     {"application/x-amz-json-1.0"},
	}, body: []byte(doc)}
}

// dynamodbError is a DynamoDB error document.
func dynamodbError(status int, code, message, id string) answer {
	doc, _ := json.Marshal(map[string]string{
		"__type":  "com.amazonaws.dynamodb.v20120810#" + code,
		"message": message,
	})
	a := dynamodbAnswer(id, string(doc)+"\n")
	a.status, a.code = status, code
	return a
}

// s3 routes an S3 request of the HTTP method.
func (h *Handler) s3(method string) operation {
	action := map[string]string{http.MethodGet: "GetObject", http.MethodPut: "PutObject", http.MethodHead: "HeadObject"}[method]
	if action == "" {
		action = method
	}
	return operation{
		name: "s3:" + action,
		act: func(id string) answer {
			a := answer{status: http.StatusOK, header: s3Header(id)}
			if method == http.MethodGet {
				h.mu.Lock()
				size := h.objectSize
				h.mu.Unlock()
				a.header.Set("Content-Type", "text/plain")
				a.body = Object(size)
			}
			return a
		},
		fail: func(reply Reply, id string) answer {
			if reply.Body != "" {
				return page(reply, s3Header(id))
			}
			a := answer{status: reply.Status, code: reply.Code, header: s3Header(id)}
			a.header.Set("Content-Type", "application/xml")
			if method != http.MethodHead {
				a.body = fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>host-%s</HostId></Error>`,
					escape(reply.Code), escape(reply.Message), id, id)
			}
			return a
		},
	}
}

// s3Header is the header of every S3 answer: its request ids.
func s3Header(id string) http.Header {
	return http.Header{"X-Amz-Request-Id": {id}, "X-Amz-Id-2": {"host-" + id}}
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
