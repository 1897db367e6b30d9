// A shopper in a PostgreSQL shop: looks items up with a prepared statement
// and buys them in transactions. Every statement is an event of type
// postgres, recorded by the host; an item out of stock is the server's
// check violation (SQLSTATE 23514), and the buy is rolled back.
//
// Create the shop with guest-examples/rust/postgres-shop/schema.sql, then
// run with `--host postgres://user@127.0.0.1:5432/shop`; `-e WAIT_MS=N` sets
// the pause after each task (default 100).
package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"wasmload"
)

const items = 10

type shopper struct {
	db       *wasmload.PGConn
	itemByID *wasmload.PGStatement
}

func init() {
	wasmload.Users(wasmload.Class[shopper]{
		Name: "shopper",
		Wait: wasmload.Constant(time.Duration(waitMS()) * time.Millisecond),
		Tasks: []wasmload.Task[shopper]{
			{Name: "browse", Run: (*shopper).browse, Weight: 3},
			{Name: "buy", Run: (*shopper).buy},
		},
		OnStart: (*shopper).connect,
	})
}

func waitMS() int {
	text, _ := wasmload.Param("WAIT_MS")
	if ms, err := strconv.Atoi(text); err == nil {
		return ms
	}
	return 100
}

func randomItem() int64 { return int64(wasmload.RandomRange(1, items+1)) }

func (s *shopper) connect() error {
	var err error
	if s.db, err = wasmload.ConnectPostgres("", 0); err != nil {
		return err
	}
	s.itemByID, err = s.db.Prepare("item by id", "SELECT name, price, stock FROM items WHERE id = $1")
	return err
}

func (s *shopper) browse() error {
	rows, err := s.itemByID.Query(randomItem())
	if err != nil {
		return err
	}
	if len(rows.Rows) != 1 {
		return fmt.Errorf("%d items with one id", len(rows.Rows))
	}
	name, _ := rows.Rows[0][0].(string)
	price, _ := rows.Rows[0][1].(string)
	if !strings.HasPrefix(name, "item ") {
		return fmt.Errorf("item has no name: %v", rows.Rows[0][0])
	}
	if !strings.Contains(price, ".") {
		return fmt.Errorf("price is not numeric: %v", rows.Rows[0][1])
	}
	return nil
}

func (s *shopper) buy() error {
	item := randomItem()
	return s.db.Transaction(func() error {
		if _, err := s.db.ExecuteNamed("reserve", "UPDATE items SET stock = stock - 1 WHERE id = $1", item); err != nil {
			return err
		}
		_, err := s.db.ExecuteNamed("order", "INSERT INTO orders (item_id, user_id) VALUES ($1, $2)", item, int64(wasmload.UserID()))
		return err
	})
}

func main() {}
