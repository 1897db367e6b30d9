// A shopper of the demo shop (`demo-target`): logs in once, then browses
// pages, views items (checking what comes back) and opens the cart.
//
// Parameters: `-e WAIT_MS=min-max` (default 500-1500).
package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"wasmload"
)

type shopper struct {
	authorization string
}

func init() {
	wasmload.Users(wasmload.Class[shopper]{
		Name: "shopper",
		Wait: waitFromParam(),
		Tasks: []wasmload.Task[shopper]{
			{Name: "browse", Run: (*shopper).browse, Weight: 3, Tags: []string{"browse"}},
			{Name: "view item", Run: (*shopper).viewItem, Weight: 2, Tags: []string{"browse"}},
			{Name: "cart", Run: (*shopper).cart, Weight: 1, Tags: []string{"cart"}},
		},
		OnStart: (*shopper).logIn,
	})
}

func waitFromParam() wasmload.Wait {
	low, high, found := strings.Cut(wasmload.ParamOr("WAIT_MS", "500-1500"), "-")
	if !found {
		high = low
	}
	lowMs, _ := strconv.Atoi(low)
	highMs, _ := strconv.Atoi(high)
	return wasmload.Between(time.Duration(lowMs)*time.Millisecond, time.Duration(highMs)*time.Millisecond)
}

func (s *shopper) logIn() error {
	login := map[string]string{"username": fmt.Sprintf("user%d", wasmload.UserID()), "password": "secret"}
	response, err := wasmload.PostJSON("/login", login)
	if err != nil {
		return err
	}
	if err := response.ExpectStatus(200); err != nil {
		return err
	}
	var answer struct {
		Token string `json:"token"`
	}
	if err := response.JSON(&answer); err != nil || answer.Token == "" {
		return errors.New("login answered without a token")
	}
	s.authorization = "Bearer " + answer.Token
	return nil
}

// browse opens a page of the catalogue; every page is grouped under `/items`.
func (s *shopper) browse() error {
	_, err := wasmload.Get(fmt.Sprintf("/items?page=%d", wasmload.RandomRange(1, 6)))
	return err
}

// viewItem opens one item and checks it: the right id, and in stock (else
// the request fails).
func (s *shopper) viewItem() error {
	id := wasmload.RandomRange(1, 1001)
	request := wasmload.Request{URL: fmt.Sprintf("/items/%d", id), Name: "/items/[id]"}
	_, err := wasmload.Rest(request, func(response *wasmload.Response) error {
		var item struct {
			ID      uint64 `json:"id"`
			InStock bool   `json:"in_stock"`
		}
		if err := response.JSON(&item); err != nil {
			return err
		}
		if item.ID != id {
			return errors.New("wrong item returned")
		}
		if !item.InStock {
			return errors.New("out of stock")
		}
		return nil
	})
	return err
}

// cart opens the cart, which needs the session cookie set at login.
func (s *shopper) cart() error {
	response, err := wasmload.Send(wasmload.Request{
		URL:     "/cart",
		Headers: [][2]string{{"authorization", s.authorization}},
	})
	if err != nil {
		return err
	}
	return response.ExpectStatus(200)
}

func main() {}
