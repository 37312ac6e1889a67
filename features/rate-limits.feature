@rate-limit
Feature: The partner's rate limit
  A client that sends more than its budget (5 requests a second for the throttled client)
  gets 429 with Retry-After and the X-RateLimit headers, as the contract says.

  Scenario: Over its budget a client gets 429 with Retry-After
    Given the contract "support-escalation"
    And I authenticate as the client "throttled-app" with the secret "${env:THROTTLED_APP_SECRET:-throttled-secret}"
    When I call "listTickets" 8 times
    Then one of those calls was answered 429
    And the response header "Retry-After" is "#regex [1-9][0-9]*"
    And the response header "X-RateLimit-Limit" is "5"
    And the response body matches:
      """json
      { "error": "rate_limited", "message": "#string" }
      """
    And the response matches the contract
