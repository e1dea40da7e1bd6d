package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/civitas-net/civitas/issuer/store"
)

// publicRequestURL is the URL of this request as the world sees it: the service's
// public URL and the request's escaped path. Node request tokens are signed for it.
func (a *api) publicRequestURL(c *gin.Context) string {
	return a.svc.PublicURL() + c.Request.URL.EscapedPath()
}

func (a *api) nodeBundle(c *gin.Context) {
	raw, err := a.svc.NodeBundle(c.Request.Context(), principal(c), c.Param("id"), c.Query("name"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/jwt", raw)
}

func (a *api) listNodes(c *gin.Context) {
	ns, err := a.svc.Nodes(c.Request.Context(), principal(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	out := make([]gin.H, len(ns))
	for i, n := range ns {
		out[i] = gin.H{"id": n.ID, "name": n.Name, "did": n.DID, "enrolled": n.DID != "", "createdAt": n.CreatedAt}
	}
	c.JSON(http.StatusOK, gin.H{"nodes": out})
}

func (a *api) listCheckIns(c *gin.Context) {
	cs, err := a.svc.CheckIns(c.Request.Context(), principal(c), store.CheckInFilter{
		NodeID: c.Query("node"), FlaggedOnly: c.Query("flagged") == "true", Limit: queryInt(c, "limit"),
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	out := make([]gin.H, len(cs))
	for i, ci := range cs {
		codes := ci.Codes
		if codes == nil {
			codes = []string{}
		}
		out[i] = gin.H{"node": ci.NodeID, "seq": ci.Seq, "at": ci.At, "type": ci.Type, "subjectRef": ci.SubjectRef,
			"decision": ci.Decision, "codes": codes, "flagged": ci.Flagged, "receivedAt": ci.ReceivedAt}
	}
	c.JSON(http.StatusOK, gin.H{"checkIns": out})
}

type enrollBody struct {
	DID  string `json:"did"`
	Code string `json:"code"`
}

func (a *api) enrollNode(c *gin.Context) {
	var body enrollBody
	if !a.decode(c, &body) {
		return
	}
	if err := a.svc.EnrollNode(c.Request.Context(), c.Param("id"), body.DID, body.Code); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *api) refreshBundle(c *gin.Context) {
	raw, err := a.svc.RefreshBundle(c.Request.Context(), c.Param("id"), c.GetHeader("Authorization"), c.Request.Method, a.publicRequestURL(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/jwt", raw)
}

func (a *api) checkInHead(c *gin.Context) {
	seq, hash, err := a.svc.CheckInHead(c.Request.Context(), c.Param("id"), c.GetHeader("Authorization"), c.Request.Method, a.publicRequestURL(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"seq": seq, "hash": hash})
}

func (a *api) uploadCheckIns(c *gin.Context) {
	body, ok := a.readBody(c)
	if !ok {
		return
	}
	res, err := a.svc.UploadCheckIns(c.Request.Context(), c.Param("id"), c.GetHeader("Authorization"), c.Request.Method, a.publicRequestURL(c), body)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}
