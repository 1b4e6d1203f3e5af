// Runtime configuration of the pages. The local stack serves its own /config.js (the API on
// 127.0.0.1); the deploy writes this file to the pages' bucket with the stage's API URL and the
// Cognito hosted UI (see docs: README "Web pages"). Nothing else in web/ differs per stage.
window.APP_CONFIG = {
  "apiUrl": "http://127.0.0.1:8000",
  "cognito": null,
  "devTokens": false
};
