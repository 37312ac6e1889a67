@mock
Feature: Faults and the request journal
  contrail's mock servers can misbehave on cue, like a partner having a bad day, and tell what
  they received. These scenarios need the mock servers: run them with the default replay
  target (or record).

  Background:
    Given the contract "support-escalation"
    And the request body is:
      """json
      { "title": "Disk full", "severity": 2, "link": "https://desk.example/tickets/T-9007", "external_id": "T-9007" }
      """

  Scenario: Two throttled answers, then the real one
    Given "incidents" answers the next 2 "createIncident" calls with 429 and Retry-After 1
    When I call "createIncident" 3 times
    Then one of those calls was answered 429
    And the response header "Retry-After" is "1"
    And the response body matches:
      """json
      { "error": "rate_limited" }
      """
    And the response matches the contract
    And one of those calls was answered 201
    And within 1 seconds "incidents" receives exactly 3 "createIncident" requests
    And that request's body matches:
      """json
      { "title": "Disk full", "severity": 2 }
      """
    And that request's body is exactly:
      """json
      { "title": "Disk full", "severity": 2, "link": "#regex https://desk\\.example/tickets/T-[0-9]+", "external_id": "T-9007" }
      """

  Scenario: A throttled answer can say when to come back as a date
    Given "incidents" answers the next 1 "createIncident" calls with 429 and a Retry-After date 2 seconds ahead
    When I call "createIncident"
    Then the response status is 429
    And the response header "Retry-After" is "#regex [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
    And the response matches the contract

  Scenario: An outage answers 503 until it is over
    Given "incidents" answers the next 1 "createIncident" calls with 503
    When I call "createIncident"
    Then the response status is 503
    When the request body is:
      """json
      { "title": "Disk full", "severity": 2, "link": "https://desk.example/tickets/T-9007", "external_id": "T-9007" }
      """
    And I call "createIncident"
    Then the response status is 201
    And within 1 seconds "incidents" receives exactly 2 "createIncident" requests

  Scenario: A slow partner
    Given "incidents" delays the next 1 "createIncident" calls by 300 ms
    When I call "createIncident"
    Then the response status is 201
    And the response field "severity" is 2

  Scenario: Nothing is sent when nothing is asked
    Then within 1 seconds "incidents" receives no "createIncident" request
