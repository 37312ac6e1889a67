Feature: The ticketing API keeps its contract
  The shape of every answer is checked against the partner's OpenAPI document, and the
  validation errors name the field that is wrong.

  Background:
    Given the contract "support-escalation"

  Scenario: A new ticket is created as the contract describes
    When I call "createTicket" with the body:
      """json
      { "title": "Printer on fire", "priority": "high", "customer_id": "C-1" }
      """
    Then the response status is 201
    And the response matches the contract
    And the response body matches:
      """json
      {
        "id": "#regex T-\\d+",
        "title": "Printer on fire",
        "priority": "high",
        "customer_id": "C-1",
        "status": "open",
        "link": "#uri",
        "incident_id": "#null",
        "created_at": "#date-time"
      }
      """
    And the response arrives within the partner's latency budget

  Scenario: A ticket can be read back
    Given a ticket with priority "low" exists
    And the path parameter "id" is "${ticket_id}"
    When I call "getTicket"
    Then the response status is 200
    And the response matches the contract
    And the response field "id" is "${ticket_id}"
    And the response field "priority" is "low"

  Scenario: Open tickets can be listed
    Given a ticket with priority "high" exists
    And the query parameter "status" is "open"
    When I call "listTickets"
    Then the response status is 200
    And the response matches the contract
    And the response field "items" is #[] #object

  Scenario: An unknown ticket is a 404 with an error body
    Given the path parameter "id" is "T-999999"
    When I call "getTicket"
    Then the response status is 404
    And the response matches the contract
    And the response body matches:
      """json
      { "error": "not_found", "message": "#string" }
      """

  Scenario: A ticket without a title is refused, naming the field
    When I call "createTicket" with a body that breaks the contract:
      """json
      { "priority": "high", "customer_id": "C-1" }
      """
    Then the response status is 422
    And the response matches the contract
    And the response body matches:
      """json
      { "error": "validation_failed", "details": [ { "field": "title", "message": "#string" } ] }
      """

  Scenario: A priority the contract does not know is refused
    When I call "createTicket" with a body that breaks the contract:
      """json
      { "title": "Urgent!", "priority": "urgent", "customer_id": "C-1" }
      """
    Then the response status is 422
    And the response matches the contract
    And the response field "details.0.field" is "priority"
