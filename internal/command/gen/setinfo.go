package main

import (
	"strconv"

	"corral/internal/command/internal/resptree"
)

// Redis 7.0 has no CLIENT SETINFO; go-redis and other clients send it on
// connect. Its metadata is Redis 7.2's (src/commands/client-setinfo.json
// there): arity 4, the flags and ACL categories of CLIENT SETNAME, the
// request/response policy tips, and one "attr" oneof argument of LIB-NAME
// libname | LIB-VER libver. It is rendered in 7.0's reply format.

// setinfoInfo builds the RESP3 COMMAND INFO entry of client|setinfo from
// the entry of client|setname.
func setinfoInfo(setname resptree.Value) resptree.Value {
	v := setname
	v.Elems = append([]resptree.Value(nil), setname.Elems...)
	v.Elems[0] = bulk("client|setinfo")
	v.Elems[1] = resptree.Value{Kind: ':', Str: []byte(strconv.Itoa(4))}
	v.Elems[7] = resptree.Value{Kind: '~', Elems: []resptree.Value{
		bulk("request_policy:all_nodes"),
		bulk("response_policy:all_succeeded"),
	}}
	return v
}

// setinfoDocs builds the RESP3 COMMAND DOCS map of client|setinfo.
func setinfoDocs() resptree.Value {
	return dict(
		"summary", bulk("Sets information specific to the client or connection."),
		"since", bulk("7.2.0"),
		"group", bulk("connection"),
		"complexity", bulk("O(1)"),
		"arguments", array(
			dict(
				"name", bulk("attr"),
				"type", bulk("oneof"),
				"arguments", array(
					dict("name", bulk("libname"), "type", bulk("string"), "token", bulk("LIB-NAME")),
					dict("name", bulk("libver"), "type", bulk("string"), "token", bulk("LIB-VER")),
				),
			),
		),
	)
}

func bulk(s string) resptree.Value { return resptree.Value{Kind: '$', Str: []byte(s)} }

func array(elems ...resptree.Value) resptree.Value {
	return resptree.Value{Kind: '*', Elems: elems}
}

// dict builds a RESP3 map from alternating string keys and values.
func dict(kv ...any) resptree.Value {
	v := resptree.Value{Kind: '%'}
	for i := 0; i < len(kv); i += 2 {
		v.Elems = append(v.Elems, bulk(kv[i].(string)), kv[i+1].(resptree.Value))
	}
	return v
}
