@auth
Feature: OAuth scopes protect the partners' APIs
  Each call needs the scope the contract names; without it the partner answers 403 with
  insufficient_scope, and without a token at all 401 with invalid_token.

  Background:
    Given the contract "support-escalation"

  Scenario: A call without a token is refused with 401
    Given I am not authenticated
    When I call "listTickets"
    Then the response status is 401
    And the response header "WWW-Authenticate" is "#regex Bearer .*error=\"invalid_token\".*"
    And the response matches the contract

  Scenario: A token with the read scope only cannot create tickets
    Given I authenticate with the scopes "tickets:read"
    When I call "createTicket" with the body:
      """json
      { "title": "Printer on fire", "customer_id": "C-1" }
      """
    Then the response status is 403
    And the response header "WWW-Authenticate" is "#regex .*scope=\"tickets:write\".*"
    And the response body matches:
      """json
      { "error": "insufficient_scope" }
      """
    And the response matches the contract

  Scenario: A token with the read scope can still read
    Given I authenticate with the scopes "tickets:read"
    When I call "listTickets"
    Then the response status is 200
    And the response matches the contract

  Scenario: A read-only client cannot open incidents
    Given I authenticate as the client "readonly-app" with the secret "${env:READONLY_APP_SECRET:-readonly-secret}"
    When I call "createIncident" with the body:
      """json
      { "title": "Disk full", "severity": 2, "link": "https://desk.example/tickets/T-7" }
      """
    Then the response status is 403
    And the response field "error" is "insufficient_scope"
    And the response matches the contract
