package httpapi

import (
	"io"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/civitas-net/civitas/internal/qrcode"
	"github.com/civitas-net/civitas/issuer"
)

type offerBody struct {
	Type       string         `json:"type"`
	Subject    map[string]any `json:"subject"`
	Format     string         `json:"format"`
	TxCode     bool           `json:"txCode"`
	ValidUntil string         `json:"validUntil"`
}

func (a *api) createOffer(c *gin.Context) {
	var body offerBody
	if !a.decode(c, &body) {
		return
	}
	v, err := a.svc.CreateOffer(c.Request.Context(), principal(c), issuer.OfferRequest{
		Type: body.Type, Subject: body.Subject, Format: body.Format, TxCode: body.TxCode, ValidUntil: body.ValidUntil,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, v)
}

func (a *api) getOffer(c *gin.Context) {
	v, err := a.svc.Offer(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, v)
}

// offerQR renders the offer URI as a PNG QR code while the offer can be redeemed.
func (a *api) offerQR(c *gin.Context) {
	v, err := a.svc.Offer(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	if v.URI == "" {
		a.fail(c, &issuer.Error{Code: issuer.CodeApprovalClosed, Message: "the offer is " + v.State + "; it can no longer be redeemed"})
		return
	}
	png, err := qrcode.PNG(v.URI)
	if err != nil {
		a.fail(c, &issuer.Error{Code: issuer.CodeInternal, Message: "could not draw the QR code", Err: err})
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "image/png", png)
}

func (a *api) issuerMetadata(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, a.svc.IssuerMetadata())
}

func (a *api) authServerMetadata(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, a.svc.AuthorizationServerMetadata())
}

// oauthFail writes an OAuth error response.
func oauthFail(c *gin.Context, e *issuer.OAuthError) {
	c.Header("Cache-Control", "no-store")
	if e.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer error="`+e.Code+`"`)
	}
	c.AbortWithStatusJSON(e.Status, e)
}

func (a *api) token(c *gin.Context) {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		oauthFail(c, &issuer.OAuthError{Code: "invalid_request", Description: "the token request must be application/x-www-form-urlencoded", Status: http.StatusBadRequest})
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		if a.tooLarge(c, err) {
			return
		}
		oauthFail(c, &issuer.OAuthError{Code: "invalid_request", Description: "the form is malformed", Status: http.StatusBadRequest})
		return
	}
	resp, oerr := a.svc.Token(c.Request.Context(), c.Request.PostForm)
	if oerr != nil {
		oauthFail(c, oerr)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, resp)
}

func (a *api) nonce(c *gin.Context) {
	n, err := a.svc.Nonce(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"c_nonce": n})
}

func (a *api) credential(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		if a.tooLarge(c, err) {
			return
		}
		oauthFail(c, &issuer.OAuthError{Code: "invalid_credential_request", Description: "could not read the body", Status: http.StatusBadRequest})
		return
	}
	resp, oerr := a.svc.IssueOffered(c.Request.Context(), c.GetHeader("Authorization"), body)
	if oerr != nil {
		oauthFail(c, oerr)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, resp)
}
